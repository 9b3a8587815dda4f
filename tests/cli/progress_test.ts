/** Progress lines of long commands: what they say, and that they show only on a terminal. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Progress, StepProgress } from "../../src/cli/progress.ts";
import { generateKeyFile } from "../../src/feed/signing.ts";
import { pksnCommand, tempDir } from "../_helpers.ts";
import { FeedServer } from "../sync/_feed.ts";

/** Runs `pksn ARGS` on a pseudo-terminal (util-linux `script`), as an operator's shell would. */
async function onTerminal(args: string[]): Promise<{ code: number; seen: string }> {
  const shell = [Deno.execPath(), "run", "--allow-all", "--quiet", join(Deno.cwd(), "src/main.ts")]
    .concat(args).map((a) => `'${a}'`).join(" ");
  const run = await new Deno.Command("script", {
    args: ["-qec", shell, "/dev/null"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: run.code, seen: new TextDecoder().decode(run.stdout) };
}

/** An NDJSON feed of `n` file records. */
async function writeFeed(path: string, n: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({ type: "file", md5: i.toString(16).padStart(32, "0"), verdict: "malicious" }),
    );
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

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

Deno.test("a sync's progress line names the step, its file by version, the share and the rate", () => {
  let now = 0;
  const progress = new StepProgress({ terminal: false, now: () => now });
  assert.equal(progress.text(), "Checking the feed's signed metadata");
  const name = `snapshots/7.${"ab".repeat(32)}.bin`;
  progress.update({ step: "download", name, done: 0, total: 8 * 1024 * 1024 });
  now = 1000;
  progress.update({ step: "download", name, done: 2 * 1024 * 1024, total: 8 * 1024 * 1024 });
  assert.equal(
    progress.text(),
    "Downloading snapshots/7.bin: 25% of 8.0 MiB, about 3 s left (2.0 MiB/s)",
  );
  progress.update({ step: "apply", name, done: 0, total: 400_000 });
  now = 3000;
  progress.update({ step: "apply", name, done: 100_000, total: 400_000 });
  assert.equal(
    progress.text(),
    "Applying snapshots/7.bin: 100,000 of 400,000 records (50,000/s), 25%, about 6 s left",
  );
  progress.close();
});

Deno.test("import shows its progress on a terminal and only its summary elsewhere", async () => {
  await using dir = await tempDir();
  const file = join(dir.path, "big.ndjson");
  await writeFeed(file, 250_000);
  const tty = await onTerminal(["import", file, "--data", join(dir.path, "tty")]);
  assert.equal(tty.code, 0, tty.seen);
  assert.match(tty.seen, /Importing .*big\.ndjson: [\d,]+ lines \([\d,]+\/s\), \d+% of [\d.]+ MiB/);
  assert.match(tty.seen, /Imported 250000 records/);

  const piped = await pksnCommand(["import", file, "--data", join(dir.path, "pipe")]).output();
  const stderr = new TextDecoder().decode(piped.stderr);
  assert.equal(piped.code, 0, stderr);
  assert.doesNotMatch(stderr, /Importing/);
  assert.match(new TextDecoder().decode(piped.stdout), /^Imported 250000 records/);
});

Deno.test("feed build and sync show their progress on a terminal", async () => {
  await using dir = await tempDir();
  const input = join(dir.path, "big.ndjson");
  await writeFeed(input, 300_000);
  const key = async (name: string): Promise<string> => {
    const path = join(dir.path, name);
    await Deno.writeTextFile(path, JSON.stringify(await generateKeyFile()));
    return path;
  };
  const tree = join(dir.path, "feed");
  const rootKey = await key("root.key");
  const timestampKey = await key("timestamp.key");
  const init = await pksnCommand([
    "feed",
    "init",
    "--out",
    tree,
    "--root-key",
    rootKey,
    "--timestamp-key",
    timestampKey,
  ]).output();
  assert.equal(init.code, 0, new TextDecoder().decode(init.stderr));

  const build = await onTerminal(
    ["feed", "build", "--out", tree, "--timestamp-key", timestampKey, "--input", input],
  );
  assert.equal(build.code, 0, build.seen);
  assert.match(build.seen, /Reading .*big\.ndjson: [\d,]+ lines \([\d,]+\/s\), \d+% of/);

  await using server = new FeedServer(tree);
  const config = join(dir.path, "pksn.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      dataDir: join(dir.path, "data"),
      sync: { url: server.url, root: join(tree, "root.1.json") },
    }),
  );
  const sync = await onTerminal(["sync", "--config", config]);
  assert.equal(sync.code, 0, sync.seen);
  assert.match(
    sync.seen,
    /Applying snapshots\/1\.bin: [\d,]+ of 300,000 records \([\d,]+\/s\), \d+%/,
  );
  assert.match(sync.seen, /Mirror synced from version 0 to 1 \(snapshot\)/);
});
