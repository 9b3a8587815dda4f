/**
 * `pksn serve` as a child process: a 202 means the records are on disk, so a
 * SIGKILL right after it loses nothing, and a torn line from a crash is cut off
 * when the node starts again.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../src/core/clock.ts";
import { resolveConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { openNode } from "../../src/node/node.ts";
import { dayFile, exportDay, statsDir, utcDate } from "../../src/stats/mod.ts";
import { tempDir } from "../_helpers.ts";
import { startServe } from "../cli/_cli.ts";
import { record } from "./_stats.ts";

/** Registers a licence in `dataDir` whose client chose "with-statistics"; returns its key. */
async function licensedDataDir(dataDir: string): Promise<string> {
  const config = resolveConfig({ dataDir });
  const node = await openNode(config, { clock: systemClock, log: memoryLogger() });
  try {
    const expires = Math.floor(Date.now() / 1000) + 86_400;
    const { key } = node.licences.add({ customer: "Durable Customer", expires }, "test");
    const licence = node.auth.authenticate(new Headers({ authorization: `Bearer ${key}` }));
    node.auth.choose(licence, "with-statistics", node.participation.statementVersion);
    return key;
  } finally {
    node.close();
  }
}

async function exported(dataDir: string, date: string): Promise<Record<string, unknown>[]> {
  const text = await new Response(ReadableStream.from(await exportDay(statsDir(dataDir), date)))
    .text();
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

Deno.test("records answered 202 survive a SIGKILL right after, and a torn line is cut at restart", async () => {
  await using dir = await tempDir();
  const key = await licensedDataDir(dir.path);
  const args = ["--data", dir.path, "--listen", "127.0.0.1:0"];
  const batch = Array.from({ length: 500 }, (_, i) => record({ size: i }));
  let date: string;
  {
    await using serve = await startServe(args, { env: { PKSN_LOG_LEVEL: "info" } });
    const res = await fetch(`${serve.url}/v1/stats`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(batch),
    });
    const body = await res.json();
    date = utcDate(Date.now());
    serve.child.kill("SIGKILL");
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.accepted, 500);
    await serve.stop("SIGKILL");
  }
  assert.deepEqual((await exported(dir.path, date)).map((r) => r.size), batch.map((r) => r.size));

  // A crash in the middle of the next write, made by hand.
  const path = dayFile(statsDir(dir.path), date);
  await Deno.writeTextFile(path, '{"detectedAt":"2026-', { append: true });
  {
    await using serve = await startServe(args, { env: { PKSN_LOG_LEVEL: "info" } });
    await serve.stop("SIGTERM");
    assert.match(serve.stderr.text, /Repaired a torn last line .* removedBytes=20/);
  }
  const records = await exported(dir.path, date);
  assert.equal(records.length, 500);
  assert.ok(records.every((r) => typeof r.receivedAt === "string"));
});
