/**
 * The floor under the node's look-up figures: plain `Deno.serve` doing only the work a licensed
 * look-up cannot skip (read and compare the licence header, look the object up through the node's own
 * look-up service over the same database and index, write the answer) and nothing else: no
 * routing, middleware, metrics, request timing, connection limits or security headers, and a
 * licence check that is one string comparison. What it reaches against raw `Deno.serve` in the
 * same run bounds what the node can reach on this runtime with its look-up engine as it is.
 *
 * Usage: floor_server.ts PORT DATA_DIR AUTHORIZATION (the node must not be running on DATA_DIR)
 *   GET  /licence       the licence check and a fixed answer: what reading the header costs
 *   GET  /v1/files/H    the licence check, the look-up and its answer
 *   POST /v1/lookup     the licence check, the body, the batch look-up and its answers
 */
import { join } from "node:path";
import { AnswerText } from "../../src/api/answer_text.ts";
import { BatchBuffers, BatchBytes, VerdictRuns } from "../../src/api/batch_bytes.ts";
import { scanBatch } from "../../src/api/batch_scan.ts";
import { DEFAULTS } from "../../src/core/config.ts";
import { Gate, systemClock } from "../../src/core/mod.ts";
import { readStream } from "../../src/http/mod.ts";
import { IndexKeeper, Reputation } from "../../src/reputation/mod.ts";
import { EntryRepository, openDatabase } from "../../src/store/mod.ts";

const [portText, dataDir, authorization] = Deno.args;
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !dataDir || !authorization) {
  console.error("Usage: floor_server.ts PORT DATA_DIR AUTHORIZATION");
  Deno.exit(2);
}

const database = join(dataDir, "pksn.db");
const db = openDatabase(database, { cacheMiB: DEFAULTS.store.cacheMiB });
const builder = openDatabase(database, { cacheMiB: 8 });
// The index the import saved, as the node reads it at start; never saved from here.
const keeper = await IndexKeeper.open(builder, systemClock, {
  dataDir,
  save: false,
  warn: (message) => console.error(message),
});
const reputation = new Reputation({
  entries: new EntryRepository(db),
  index: keeper.holder,
  ttl: { unknown: DEFAULTS.lookup.unknownTtl, default: DEFAULTS.lookup.defaultTtl },
});
const answers = new AnswerText();

const HEADERS = { "content-type": "application/json" };
const FIXED = '{"ok":true}';
const FILES = "/v1/files/";

function refused(): Response {
  return new Response('{"error":"unauthorized"}', { status: 401, headers: HEADERS });
}

// As in the node, two batches at a time read their bodies and are answered (api/batch.ts): the
// rest wait, which bounds the memory fifty clients posting at once take.
const gate = new Gate(2);
const spare: BatchBuffers[] = [];
const noVerdicts = new VerdictRuns(() => {});

/** The node's byte path for a batch in the plain form (api/batch_scan.ts), with no slices. */
async function batch(request: Request): Promise<Response> {
  await gate.enter();
  const buffers = spare.pop() ?? new BatchBuffers(DEFAULTS.lookup.maxBatchItems);
  try {
    // Read chunk by chunk and bounded, as the node reads it.
    const body = await readStream(request.body!, DEFAULTS.lookup.maxBodyBytes);
    const scanned = scanBatch(body, buffers.spans);
    if (scanned === null) return new Response('{"error":"not plain"}', { status: 400 });
    const out = new BatchBytes(body, scanned, reputation, answers, noVerdicts, buffers);
    out.answer(0, scanned.count);
    return new Response(out.finish(), { headers: HEADERS });
  } finally {
    spare.push(buffers);
    gate.leave();
  }
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen({ hostname, port }): void {
    console.error(`floor listening on http://${hostname}:${port}`);
  },
}, function floor(request: Request): Response | Promise<Response> {
  // A request without the header is served as a node with licence checks off serves it.
  const key = request.headers.get("authorization");
  if (key !== null && key !== authorization) return refused();
  const url = request.url;
  const path = url.indexOf("/", url.indexOf(":") + 3);
  if (url.startsWith(FILES, path)) {
    const result = reputation.lookup("file", url.slice(path + FILES.length));
    return new Response(answers.of(result), { headers: HEADERS });
  }
  if (request.method === "POST") return batch(request);
  return new Response(FIXED, { headers: HEADERS });
});

Deno.addSignalListener("SIGTERM", () => {
  server.shutdown();
});
await server.finished;
builder.close();
db.close();
