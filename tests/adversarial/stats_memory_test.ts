/**
 * Issue 9, finding 2: a day of statistics with hundreds of thousands of distinct
 * threats must not crash the node (at start, when rollover packs it, or when the
 * operator asks for its counts). The node runs as a subprocess with the heap
 * limits it is served with (deno.json's `start` task), and its peak RSS is read
 * from /proc.
 */
import assert from "node:assert/strict";
import { AdminAuth } from "../../src/admin/mod.ts";
import { DEFAULTS } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { archiveFile, dayFile, statsDir, utcDate } from "../../src/stats/mod.ts";
import { api, logIn, PASSWORD } from "../admin/_admin.ts";
import { StreamText } from "../cli/_cli.ts";
import { MAIN, ROOT, SERVING_V8_FLAGS, tempDir } from "../_helpers.ts";

/** Records in the day; all but every 50th carry a threat of their own. */
const RECORDS = 700_000;
/**
 * Peak resident memory the node may reach while packing one such day and
 * counting another. An idle node peaks near 70 MiB; the crash this test is
 * about reached about 187 MiB before the heap limit ended it.
 */
const MAX_RSS_BYTES = 160 * 1024 * 1024;
/** Distinct threats in a day: all but the two common ones' 7,000 records each. */
const DISTINCT = RECORDS - 2 * 7000;

/** The threat of record `i`: two common ones, the rest distinct. */
function threatOf(i: number): string {
  if (i % 100 === 0) return "Common.A";
  if (i % 100 === 50) return "Common.B";
  return `Distinct.${String(i).padStart(7, "0")}`;
}

/** Writes the day file in blocks of lines: one string per block, not one per record. */
async function writeDay(path: string, date: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const encoder = new TextEncoder();
    const head = `{"detectedAt":"${date}T11:59:00.000Z","detectionType":"file",` +
      `"verdict":"malicious","threat":"`;
    const tail = `","statisticsVersion":1,"receivedAt":"${date}T12:00:00.000Z"}\n`;
    for (let start = 0; start < RECORDS; start += 10_000) {
      let block = "";
      for (let i = start; i < Math.min(start + 10_000, RECORDS); i++) {
        block += head + threatOf(i) + tail;
      }
      const bytes = encoder.encode(block);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    }
  } finally {
    file.close();
  }
}

/** Gives the data folder an admin account, as `pksn admin password` would. */
async function addAdmin(dataDir: string): Promise<void> {
  const db = await openStore(dataDir, { cacheMiB: 8, log: memoryLogger() });
  try {
    await new AdminAuth({
      db,
      clock: { now: () => Date.now() },
      config: DEFAULTS.admin,
      secure: false,
      log: memoryLogger(),
    }).setPassword("admin", PASSWORD);
  } finally {
    db.close();
  }
}

/** `pksn serve` on port 0 with the serving heap flags, both pipes read as they fill. */
function spawnServing(dataDir: string): {
  child: Deno.ChildProcess;
  stdout: StreamText;
  stderr: StreamText;
} {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", SERVING_V8_FLAGS, "--allow-all", "--quiet", MAIN, "serve"]
      .concat(["--listen", "127.0.0.1:0", "--data", dataDir]),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return { child, stdout: new StreamText(child.stdout), stderr: new StreamText(child.stderr) };
}

/** Peak resident set size of a running process, from /proc (Linux). */
async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = status.match(/^VmHWM:\s+(\d+) kB$/m);
  assert.ok(kib, "/proc/PID/status has VmHWM");
  return Number(kib[1]) * 1024;
}

Deno.test({
  name: "a node with the serving heap limit packs a past day of 700,000 records with " +
    "686,000 distinct threats at start, and answers the counts of that day and of such a day " +
    "still open as the top 1,000 threats, in bounded memory",
  ignore: Deno.build.os !== "linux",
  async fn(): Promise<void> {
    await using dir = await tempDir();
    const today = utcDate(Date.now());
    const yesterday = utcDate(Date.now() - 86_400_000);
    const stats = statsDir(dir.path);
    await Deno.mkdir(stats, { recursive: true });
    await writeDay(dayFile(stats, yesterday), yesterday);
    await writeDay(dayFile(stats, today), today);
    await addAdmin(dir.path);

    const { child, stdout, stderr } = spawnServing(dir.path);
    try {
      const url = (await stderr.waitFor(/pksn listening on (https?:\/\/\S+)/, 120_000))[1];
      const health = await fetch(`${url}/healthz`);
      await health.body?.cancel();
      assert.equal(health.status, 200, stderr.text);
      assert.match(stderr.text, new RegExp(`Packed statistics of ${yesterday}`));
      assert.ok((await Deno.stat(archiveFile(stats, yesterday))).isFile, "the day is packed");
      await assert.rejects(Deno.stat(dayFile(stats, yesterday)), Deno.errors.NotFound);

      const { cookie } = await logIn({ url });
      // The packed day is read from its manifest; today's is counted from its file.
      for (const date of [yesterday, today]) {
        const res = await api({ url }, `/admin/api/stats/${date}`, { cookie });
        assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
        // Unless midnight (UTC) passed meanwhile and the timer packed today's file too.
        if (utcDate(Date.now()) === today) assert.equal(res.body.archived, date === yesterday);
        assert.equal(res.body.records, RECORDS);
        assert.deepEqual(res.body.verdicts, { malicious: RECORDS });
        const threats = Object.entries(res.body.threats as Record<string, number>);
        assert.equal(threats.length, 1000, "the 1,000 most frequent threats");
        assert.deepEqual(threats.slice(0, 3), [
          ["Common.A", 7000],
          ["Common.B", 7000],
          ["Distinct.0000001", 1],
        ]);
        assert.deepEqual(res.body.otherThreats, {
          records: DISTINCT - 998,
          distinct: DISTINCT - 998,
        });
        assert.equal(res.body.countsExact, true);
      }

      const health2 = await fetch(`${url}/healthz`);
      await health2.body?.cancel();
      assert.equal(health2.status, 200, "the node is still up");
      const rss = await peakRss(child.pid);
      console.log(`peak RSS ${(rss / 1024 / 1024).toFixed(1)} MiB`);
      assert.ok(rss < MAX_RSS_BYTES, `peak RSS ${rss} bytes is under ${MAX_RSS_BYTES}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nnode stderr:\n${stderr.text.slice(-4000)}`, {
        cause: err,
      });
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited (the crash this test is about).
      }
      await child.status;
      await Promise.all([stdout.done, stderr.done]);
    }
  },
});
