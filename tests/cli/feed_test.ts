/** `pksn feed`: keys, root, builds from feed files and databases, and offline bundles, as a user runs them. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { databasePath } from "../../src/node/node.ts";
import { openDatabase } from "../../src/store/database.ts";
import { computeMirrorChecksum } from "../../src/feed/apply.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import { generateKeyFile } from "../../src/feed/signing.ts";
import { type CliResult, ROOT, runCli, tempDir } from "../_helpers.ts";
import { assertNoStackTrace, seedDataDir } from "./_cli.ts";

const FEEDS = join(ROOT, "tests/testdata/feeds");
const URLHAUS = join(FEEDS, "urlhaus.csv");

/** A feed folder with root version 1 (made by `pksn feed init`) and its key files. */
interface Feed {
  out: string;
  rootKey: string;
  timestampKey: string;
}

async function writeKey(path: string): Promise<string> {
  await Deno.writeTextFile(path, JSON.stringify(await generateKeyFile()));
  return path;
}

async function initFeed(dir: string): Promise<Feed> {
  const feed = {
    out: join(dir, "feed"),
    rootKey: await writeKey(join(dir, "root.key")),
    timestampKey: await writeKey(join(dir, "timestamp.key")),
  };
  const init = await runCli([
    "feed",
    "init",
    ...["--out", feed.out, "--root-key", feed.rootKey, "--timestamp-key", feed.timestampKey],
  ]);
  assert.equal(init.code, 0, init.stderr);
  return feed;
}

/** The arguments of `pksn feed build` into `out`, signed with `timestampKey`, then `args`. */
function buildArgs(out: string, timestampKey: string, ...args: string[]): string[] {
  return ["feed", "build", "--out", out, "--timestamp-key", timestampKey, ...args];
}

function build(feed: Feed, ...args: string[]): Promise<CliResult> {
  return runCli(buildArgs(feed.out, feed.timestampKey, ...args));
}

/** Builds the next version from the URLhaus export. */
function buildUrlhaus(feed: Feed): Promise<CliResult> {
  return build(feed, "--input", URLHAUS, "--format", "urlhaus");
}

/** Runs `pksn feed export` of the feed to `bundle`. */
function exportBundle(feed: Feed, bundle: string): Promise<CliResult> {
  return runCli(["feed", "export", "--feed", feed.out, "--out", bundle]);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The mirror checksum, row count and version of a pksn database. */
function mirrorOf(path: string): { checksum: string; rows: number; version: number } {
  const db = openDatabase(path, { readOnly: true });
  try {
    return { ...computeMirrorChecksum(db), version: readMirrorState(db).version };
  } finally {
    db.close();
  }
}

/** Runs `pksn feed import-bundle` for a node trusting the feed's first root. */
function importBundle(feed: Feed, bundle: string, data: string): Promise<CliResult> {
  return runCli(["feed", "import-bundle", bundle, "--data", data], {
    env: { PKSN_SYNC_ROOT: join(feed.out, "root.1.json") },
  });
}

/** Flips one byte in the middle of the first TAR entry whose name starts with `prefix`. */
async function flipByteIn(tarPath: string, prefix: string): Promise<void> {
  const bytes = await Deno.readFile(tarPath);
  const text = (from: number, to: number): string =>
    new TextDecoder().decode(bytes.subarray(from, to)).replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= bytes.length;) {
    const name = text(at, at + 100);
    if (name === "") break;
    const size = parseInt(text(at + 124, at + 136).trim(), 8);
    if (name.startsWith(prefix)) {
      bytes[at + 512 + Math.floor(size / 2)] ^= 0xff;
      await Deno.writeFile(tarPath, bytes);
      return;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no entry starting with ${prefix} in ${tarPath}`);
}

Deno.test("feed keygen writes a key file only its owner can read and prints its key id", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "root.key");
  const result = await runCli(["feed", "keygen", "--out", path]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.equal(result.stdout.trim(), JSON.parse(await Deno.readTextFile(path)).keyid);
});

Deno.test("feed keygen never overwrites an existing file", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "root.key");
  await Deno.writeTextFile(path, "precious");
  const result = await runCli(["feed", "keygen", "--out", path]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^pksn: Cannot write key file ".*root\.key": it exists already/);
  assert.equal(await Deno.readTextFile(path), "precious");
});

Deno.test("feed build --input of a URLhaus export publishes version 1 with a snapshot", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const result = await buildUrlhaus(feed);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Published version 1 to ".*feed": 3 keys, 3 added, 0 updated, 0 removed, snapshot yes, \d+ bytes\n$/,
  );
  assert.ok(await exists(join(feed.out, "timestamp.json")));
  // The state database sits beside the served folder, never inside it.
  assert.equal(mirrorOf(`${feed.out}.publisher.db`).rows, 3);
});

Deno.test("feed build --from-db publishes a database's mirror entries, not its local overrides", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const data = join(dir.path, "data");
  await seedDataDir(data, [
    { type: "domain", value: "a.example", verdict: "malicious" },
    { type: "domain", value: "b.example", verdict: "phishing" },
  ]);
  await seedDataDir(data, [{ type: "domain", value: "ours.example", verdict: "clean" }], {
    override: true,
  });
  const first = await build(feed, "--from-db", databasePath(data));
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^Published version 1 to .*: 2 keys, 2 added/);

  await seedDataDir(data, [{ type: "domain", value: "c.example", verdict: "malicious" }]);
  const second = await build(feed, "--from-db", databasePath(data));
  assert.equal(second.code, 0, second.stderr);
  assert.match(
    second.stdout,
    /^Published version 2 to .*: 3 keys, 1 added, 0 updated, 0 removed, snapshot no/,
  );
});

Deno.test("a bad line in any --input publishes nothing and is named as FILE:LINE", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const bad = join(FEEDS, "urlhaus_bad_url.csv");
  const result = await build(feed, "--input", URLHAUS, "--input", bad, "--format", "urlhaus");
  assert.equal(result.code, 1);
  assert.match(result.stderr, /urlhaus_bad_url\.csv:7: Invalid URL "gopher:\/\/old\.example\/1"/);
  assertNoStackTrace(result.stderr);
  assert.equal(await exists(join(feed.out, "timestamp.json")), false);
  const beside = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  assert.ok(
    !beside.some((n) => n.startsWith(".pksn-feed-input-")),
    `no temporary input: ${beside}`,
  );
});

Deno.test("export then import-bundle gives a fresh node the published mirror", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  assert.equal((await buildUrlhaus(feed)).code, 0);
  const bundle = join(dir.path, "feed.tar");
  const exported = await exportBundle(feed, bundle);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^Wrote bundle ".*feed\.tar": version 1, 5 files, \d+ bytes/);

  const data = join(dir.path, "node");
  const imported = await importBundle(feed, bundle, data);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(
    imported.stdout,
    /^Mirror updated from version 0 to 1 from ".*feed\.tar" \(snapshot\)/,
  );
  const published = mirrorOf(`${feed.out}.publisher.db`);
  assert.deepEqual(mirrorOf(databasePath(data)), published);

  const again = await importBundle(feed, bundle, data);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^The mirror is at version 1 already/);
});

Deno.test("a bundle with one byte flipped in its snapshot is refused and the node's mirror stays as it was", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  assert.equal((await buildUrlhaus(feed)).code, 0);
  const bundle = join(dir.path, "feed.tar");
  assert.equal((await exportBundle(feed, bundle)).code, 0);
  await flipByteIn(bundle, "snapshots/");

  const data = join(dir.path, "node");
  await seedDataDir(data, [{ type: "domain", value: "kept.example", verdict: "malicious" }]);
  const before = mirrorOf(databasePath(data));
  const result = await importBundle(feed, bundle, data);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^pksn: "snapshots\/.*" has SHA-256 [0-9a-f]{64}; the signed metadata says/m,
  );
  assertNoStackTrace(result.stderr);
  assert.deepEqual(mirrorOf(databasePath(data)), before);
  assert.equal(before.rows, 1);
});

Deno.test("import-bundle without sync.root says to set sync.root or PKSN_SYNC_ROOT", async () => {
  await using dir = await tempDir();
  const result = await runCli([
    "feed",
    "import-bundle",
    join(dir.path, "feed.tar"),
    "--data",
    join(dir.path, "node"),
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^pksn: sync\.root is not set: .*PKSN_SYNC_ROOT/);
});

Deno.test("after rotate-root, builds need the new timestamp key and nodes shipped with root 1 follow", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  assert.equal((await buildUrlhaus(feed)).code, 0);
  const newRoot = await writeKey(join(dir.path, "root2.key"));
  const newTimestamp = await writeKey(join(dir.path, "timestamp2.key"));
  const rotated = await runCli([
    "feed",
    "rotate-root",
    ...["--out", feed.out, "--old-root-key", feed.rootKey, "--root-key", newRoot],
    ...["--timestamp-key", newTimestamp],
  ]);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /^Rotated to root version 2 /);

  const stale = await buildUrlhaus(feed);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, /is not a timestamp key of root version 2/);
  const next = { ...feed, timestampKey: newTimestamp };
  assert.equal((await buildUrlhaus(next)).code, 0);

  const bundle = join(dir.path, "feed.tar");
  assert.equal((await exportBundle(feed, bundle)).code, 0);
  const data = join(dir.path, "node");
  const imported = await importBundle(feed, bundle, data);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(mirrorOf(databasePath(data)).version, 2);
});

Deno.test("every feed subcommand answers --help", async () => {
  for (const sub of ["keygen", "init", "rotate-root", "build", "export", "import-bundle"]) {
    const result = await runCli(["feed", sub, "--help"]);
    assert.equal(result.code, 0, `${sub}: ${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^Usage: pksn feed ${sub} `), sub);
  }
  const top = await runCli(["feed", "--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /^Usage: pksn feed COMMAND/);
});

Deno.test("a wrong feed command line exits 2 with a pointer to --help", async () => {
  await using dir = await tempDir();
  const key = await writeKey(join(dir.path, "t.key"));
  const cases: [string[], RegExp][] = [
    [["feed", "publish"], /Unknown command "feed publish"; see "pksn feed --help"/],
    [["feed", "init", "--root-key", key, "--timestamp-key", key], /Missing --out/],
    [buildArgs(dir.path, key), /Nothing to publish: give --from-db PATH/],
    [buildArgs(dir.path, key, "--input", URLHAUS, "--format", "xml"), /Unknown format "xml"/],
    [
      buildArgs(dir.path, key, "--from-db", "x", "--snapshot-every", "0"),
      /--snapshot-every must be a whole number from 1/,
    ],
    [["feed", "export", "--feed", dir.path, "--out", "x", "extra"], /Unexpected argument 'extra'/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
  }
});

Deno.test("a bundle unpacked and packed again with GNU tar (folders and ./ names) imports as the original", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  assert.equal((await buildUrlhaus(feed)).code, 0);
  const bundle = join(dir.path, "feed.tar");
  assert.equal((await exportBundle(feed, bundle)).code, 0);
  const unpacked = join(dir.path, "unpacked");
  await Deno.mkdir(unpacked);
  const tar = async (...args: string[]): Promise<void> => {
    const out = await new Deno.Command("tar", { args, stdout: "null", stderr: "piped" }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  };
  await tar("-xf", bundle, "-C", unpacked);
  const repacked = join(dir.path, "repacked.tar");
  await tar("-C", unpacked, "-cf", repacked, ".");
  const imported = await importBundle(feed, repacked, join(dir.path, "node"));
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /^Mirror updated from version 0 to 1 from ".*repacked\.tar"/);
});

Deno.test("feed build without an input says what to give; --from-db takes a data folder as well as its database", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const nothing = await build(feed);
  assert.equal(nothing.code, 2);
  assert.match(
    nothing.stderr,
    /Nothing to publish: give --from-db PATH \(a pksn database or data folder\) or --input FILE/,
  );
  const data = join(dir.path, "node");
  await seedDataDir(data, [{ type: "domain", value: "from-folder.example", verdict: "malicious" }]);
  const fromFolder = await build(feed, "--from-db", data);
  assert.equal(fromFolder.code, 0, fromFolder.stderr);
  const empty = join(dir.path, "empty-folder");
  await Deno.mkdir(empty);
  const refused = await build(feed, "--from-db", empty);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /is a folder without a pksn\.db: give a data folder or its database/,
  );
  assertNoStackTrace(refused.stderr);
});

Deno.test("feed build takes each --input's own format as FILE:FORMAT, and recognises feed exports by their header", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const list = join(dir.path, "blocklist.txt");
  await Deno.writeTextFile(list, "# our own\nbad-one.example\nbad-two.example\n");
  const built = await build(feed, "--input", URLHAUS, "--input", `${list}:list`);
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stderr, /Recognised ".*urlhaus\.csv" as a urlhaus export by its header/);
  const bundle = join(dir.path, "feed.tar");
  assert.equal((await exportBundle(feed, bundle)).code, 0);
  const data = join(dir.path, "node");
  assert.equal((await importBundle(feed, bundle, data)).code, 0);
  const lookup = await runCli(["lookup", "domain", "bad-two.example", "--data", data]);
  assert.equal(JSON.parse(lookup.stdout).verdict, "malicious", lookup.stdout);
  const wrong = await build(feed, "--input", `${list}:nonsense`);
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /Cannot read ".*blocklist\.txt:nonsense"/);
});

Deno.test("feed build and import count the same file's keys alike", async () => {
  await using dir = await tempDir();
  const feed = await initFeed(dir.path);
  const built = await build(feed, "--input", URLHAUS, "--format", "urlhaus");
  assert.equal(built.code, 0, built.stderr);
  const published = /: (\d+) keys,/.exec(built.stdout)?.[1];
  const imported = await runCli([
    "import",
    URLHAUS,
    "--format",
    "urlhaus",
    "--data",
    join(dir.path, "n"),
  ]);
  const keys = /\((\d+) keys\)/.exec(imported.stdout)?.[1];
  assert.ok(published !== undefined && keys !== undefined, built.stdout + imported.stdout);
  assert.equal(published, keys);
});
