import assert from "node:assert/strict";
import { runCli } from "../_helpers.ts";

// [command line, the usage line its help starts with]
const HELP_PAGES: [string[], string][] = [
  [["--help"], "Usage: pksn COMMAND [options]"],
  [["-h"], "Usage: pksn COMMAND [options]"],
  [["serve", "--help"], "Usage: pksn serve [options]"],
  [["import", "--help"], "Usage: pksn import FILE [options]"],
  [["lookup", "--help"], "Usage: pksn lookup TYPE VALUE [options]"],
  [["db", "check", "--help"], "Usage: pksn db check [options]"],
];

Deno.test("every command's --help exits 0 and prints its usage on stdout", async () => {
  // Run side by side: each is a separate process and none touches a data folder.
  const results = await Promise.all(HELP_PAGES.map(([args]) => runCli(args)));
  for (const [i, [args, usage]] of HELP_PAGES.entries()) {
    const { code, stdout, stderr } = results[i];
    const line = `pksn ${args.join(" ")}`;
    assert.equal(code, 0, `${line} exits 0: ${stderr}`);
    assert.ok(stdout.startsWith(usage), `${line} starts with ${JSON.stringify(usage)}:\n${stdout}`);
    assert.equal(stderr, "", `${line} writes nothing to stderr`);
  }
});

Deno.test("pksn --help lists every command", async () => {
  const { stdout } = await runCli(["--help"]);
  for (const command of ["serve", "import FILE", "lookup TYPE VALUE", "db check"]) {
    assert.ok(stdout.includes(`  ${command}`), `lists ${JSON.stringify(command)}:\n${stdout}`);
  }
});

Deno.test("pksn without a command exits 2 and prints the usage", async () => {
  const { code, stdout } = await runCli([]);
  assert.equal(code, 2);
  assert.ok(stdout.startsWith("Usage: pksn COMMAND [options]"), stdout);
});

Deno.test("pksn with an unknown command exits 2 naming the command", async () => {
  const { code, stderr } = await runCli(["frobnicate"]);
  assert.equal(code, 2);
  assert.equal(stderr, 'pksn: Unknown command "frobnicate"; see "pksn --help"\n');
});

Deno.test("pksn serve with an unknown option exits 2 naming it and pointing to serve --help", async () => {
  const { code, stderr } = await runCli(["serve", "--bogus"]);
  assert.equal(code, 2);
  assert.match(stderr, /^pksn: Unknown option "--bogus"; see "pksn serve --help"\n$/);
});

Deno.test("pksn serve with a stray argument exits 2 and points to serve --help", async () => {
  const { code, stderr } = await runCli(["serve", "extra"]);
  assert.equal(code, 2);
  assert.match(stderr, /'extra'.*see "pksn serve --help"/);
});

Deno.test("pksn db without a subcommand exits 2 and shows the db usage", async () => {
  const { code, stdout } = await runCli(["db"]);
  assert.equal(code, 2);
  assert.ok(stdout.startsWith("Usage: pksn db check [options]"), stdout);
});

Deno.test("pksn db with an unknown subcommand exits 2 naming it", async () => {
  const { code, stderr } = await runCli(["db", "vacuum"]);
  assert.equal(code, 2);
  assert.equal(stderr, 'pksn: Unknown command "db vacuum"; see "pksn db --help"\n');
});

Deno.test("pksn --version and -V print the version, commit, build date, schema and Deno version, and exit 0", async () => {
  for (const flag of ["--version", "-V"]) {
    const out = await runCli([flag]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^pksn \d+\.\d+\.\d+\ncommit unknown \(run from source\)\nbuilt unknown \(run from source\)\nschema \d+\ndeno 2\.9\.6 \(V8 /,
    );
  }
});

Deno.test("a mistyped option or config key is refused with the one it is closest to", async () => {
  const flag = await runCli(["import", "--fromat", "csv", "feed.csv"]);
  assert.equal(flag.code, 2);
  assert.match(
    flag.stderr,
    /Unknown option "--fromat"; did you mean --format\?; see "pksn import --help"/,
  );
  const far = await runCli(["serve", "--bogus"]);
  assert.equal(far.code, 2);
  assert.doesNotMatch(far.stderr, /did you mean/);
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/pksn.json`;
    await Deno.writeTextFile(config, JSON.stringify({ lookup: { unknownTTL: 5 } }));
    const key = await runCli(["db", "check", "--config", config, "--data", `${dir}/data`]);
    assert.equal(key.code, 1);
    assert.match(
      key.stderr,
      /"lookup\.unknownTTL" from file .*: unknown key; did you mean "lookup\.unknownTtl"\?/,
    );
    await Deno.writeTextFile(config, JSON.stringify({ proxi: {} }));
    const section = await runCli(["db", "check", "--config", config, "--data", `${dir}/data`]);
    assert.match(section.stderr, /"proxi" .*did you mean "proxy"\?/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
