/** Progress lines of long commands: what they say, and that they show only on a terminal. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Progress } from "../../src/cli/progress.ts";
import { pksnCommand, tempDir } from "../_helpers.ts";

Deno.test("a progress line counts lines and their rate, the share read and the time left", async () => {
  let now = 0;
  const progress = new Progress("Importing feed.ndjson", {
    total: 1000,
    terminal: false,
    now: () => now,
  });
  const line = new TextEncoder().encode("x".repeat(99) + "\n");
  const input = ReadableStream.from(Array.from({ length: 4 }, () => line));
  for await (const _ of progress.watch(input)) { /* read it all */ }
  now = 2000;
  assert.equal(
    progress.text(),
    "Importing feed.ndjson: 4 lines (2/s), 40% of 0.0 MiB, about 3 s left",
  );
  progress.close();
});

Deno.test("import shows its progress on a terminal and only its summary elsewhere", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "big.ndjson");
  const lines: string[] = [];
  for (let i = 0; i < 250_000; i++) {
    lines.push(
      JSON.stringify({ type: "file", md5: i.toString(16).padStart(32, "0"), verdict: "malicious" }),
    );
  }
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  // `script` gives the command a pseudo-terminal, as an operator's shell would.
  const shell = [
    Deno.execPath(),
    "run",
    "--allow-all",
    "--quiet",
    join(Deno.cwd(), "src/main.ts"),
    "import",
    file,
    "--data",
    join(dir.path, "tty"),
  ].map((a) => `'${a}'`).join(" ");
  const onTerminal = await new Deno.Command("script", {
    args: ["-qec", shell, "/dev/null"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seen = new TextDecoder().decode(onTerminal.stdout);
  assert.equal(onTerminal.code, 0, seen);
  assert.match(seen, /Importing .*big\.ndjson: [\d,]+ lines \([\d,]+\/s\), \d+% of [\d.]+ MiB/);
  assert.match(seen, /Imported 250000 records/);

  const piped = await pksnCommand(["import", file, "--data", join(dir.path, "pipe")]).output();
  const stderr = new TextDecoder().decode(piped.stderr);
  assert.equal(piped.code, 0, stderr);
  assert.doesNotMatch(stderr, /Importing/);
  assert.match(new TextDecoder().decode(piped.stdout), /^Imported 250000 records/);
});
