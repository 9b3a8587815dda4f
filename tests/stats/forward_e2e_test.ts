/**
 * Two real nodes on loopback: statistics posted to a child arrive in its
 * parent's day file exactly once, even when the parent is down for a while.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { serveNode, type ServingNode } from "../../src/cli/serve.ts";
import { systemClock } from "../../src/core/clock.ts";
import { type ConfigLayer, resolveConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { tempDir } from "../_helpers.ts";
import { eventually } from "../licences/_licences.ts";
import { record } from "./_stats.ts";

const YEAR_S = 365 * 86_400;
// Both nodes log here, so a failure can show what they said.
const LOG = memoryLogger();

/** Starts a node with licences on over `dataDir`, on `port` (0 picks one). */
async function startNodeAt(
  dataDir: string,
  port: number,
  config: ConfigLayer = {},
): Promise<ServingNode> {
  return await serveNode(
    resolveConfig({
      ...config,
      dataDir,
      listen: `127.0.0.1:${port}`,
      auth: { required: true },
    }),
    { clock: systemClock, log: LOG },
  );
}

/** Registers a licence at `serving` and chooses with-statistics with it, as its client would. */
async function registerClient(serving: ServingNode, customer: string): Promise<string> {
  const { key } = serving.node.licences.add({
    customer,
    expires: Math.floor(Date.now() / 1000) + YEAR_S,
  }, "test");
  await serving.node.refreshIfChanged();
  const statement = await fetch(`${serving.server.url}/v1/statement`).then((r) => r.json());
  const chosen = await fetch(`${serving.server.url}/v1/participation`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ mode: "with-statistics", statementVersion: statement.version }),
  });
  assert.equal(chosen.status, 200, await chosen.text());
  return key;
}

/** POSTs records to the child's /v1/stats under an Idempotency-Key. */
async function postStats(
  serving: ServingNode,
  key: string,
  idempotencyKey: string,
  threats: string[],
): Promise<void> {
  const res = await fetch(`${serving.server.url}/v1/stats`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
      "idempotency-key": idempotencyKey,
    },
    body: JSON.stringify(threats.map((threat) => record({ threat }))),
  });
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  assert.equal(body.accepted, threats.length, JSON.stringify(body));
}

/** The threat names of every record in the parent's open day files. */
async function parentThreats(dataDir: string): Promise<string[]> {
  const dir = join(dataDir, "stats");
  const threats: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".ndjson")) continue;
    const text = await Deno.readTextFile(join(dir, entry.name));
    for (const line of text.split("\n")) if (line) threats.push(JSON.parse(line).threat);
  }
  return threats.sort();
}

Deno.test("statistics posted to a child node reach its parent's day file exactly once, across a parent outage", async () => {
  await using parentDir = await tempDir();
  await using childDir = await tempDir();
  let parent = await startNodeAt(parentDir.path, 0);
  const port = parent.server.port;
  let child: ServingNode | undefined;
  try {
    const childKey = await registerClient(parent, "Child node");
    child = await startNodeAt(childDir.path, 0, {
      upstream: { url: parent.server.url, key: childKey },
      stats: { forwardIntervalSeconds: 0.05 },
    });
    child.node.participation.set("with-statistics", { acceptStatement: true, actor: "test" });
    const clientKey = await registerClient(child, "Customer");

    await postStats(child, clientKey, "batch-1", ["E2E.1a", "E2E.1b", "E2E.1c"]);
    assert.ok(
      await eventually(async () => (await parentThreats(parentDir.path)).length === 3, 10_000),
      `the first batch arrives while the parent is up:\n${LOG.lines.join("\n")}`,
    );

    await parent.stop();
    await postStats(child, clientKey, "batch-2", ["E2E.2a", "E2E.2b"]);
    await postStats(child, clientKey, "batch-2", ["E2E.2a", "E2E.2b"]); // a client retry
    await postStats(child, clientKey, "batch-3", ["E2E.3a"]);
    const spool = child.forwarding.spool!;
    assert.ok(
      await eventually(() =>
        Promise.resolve(
          spool.due("statistics", Number.MAX_SAFE_INTEGER, 10).some((e) => e.attempts >= 2),
        ), 10_000),
      `the child keeps retrying while the parent is down:\n${LOG.lines.join("\n")}`,
    );
    assert.equal(spool.totals().statistics.entries, 2, "the client's retry was not queued again");

    parent = await startNodeAt(parentDir.path, port);
    assert.ok(
      await eventually(() => Promise.resolve(spool.totals().statistics.entries === 0), 15_000),
      `the spool drains once the parent is back:\n${LOG.lines.join("\n")}`,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await parentThreats(parentDir.path), [
      "E2E.1a",
      "E2E.1b",
      "E2E.1c",
      "E2E.2a",
      "E2E.2b",
      "E2E.3a",
    ]);
  } finally {
    await child?.stop();
    await parent.stop();
  }
});
