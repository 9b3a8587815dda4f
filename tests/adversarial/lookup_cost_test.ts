/**
 * Issue 9, findings 3 and 5: URL look-ups that cost seconds of one event loop (hosts of
 * thousands of labels expanded to every parent, "%25" chains unescaped pass by pass), and a
 * listed phishing host that slipped past the look-up because the node split URLs differently
 * from browsers. Also the bounds that keep a batch's cost and the cache of hits in check.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import { createHttpMetrics } from "../../src/http/http_metrics.ts";
import { mountBatchRoutes } from "../../src/api/batch.ts";
import { AnswerText } from "../../src/api/answer_text.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { startTestNode } from "../_helpers.ts";

const AUTH = { authorization: `Bearer ${DEMO_KEY}` };

async function urlLookup(base: string, url: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/v1/urls?url=${encodeURIComponent(url)}`, { headers: AUTH });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function batch(base: string, items: unknown[]): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${base}/v1/lookup`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body: JSON.stringify({ items }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body).slice(0, 300));
  return body.results;
}

Deno.test("GET /v1/urls finds a listed host hidden behind a backslash and user info, as browsers read it", async () => {
  await using node = await startTestNode({ demo: true, config: { auth: { required: true } } });
  // Browsers open evil.example here (a backslash is a slash in http URLs); it is listed.
  const body = await urlLookup(node.url, "http://evil.example\\@good.example/");
  assert.equal(body.verdict, "malicious");
  assert.equal(body.value, "http://evil.example/@good.example/");
  assert.deepEqual(body.match, { type: "url", value: "evil.example/" });
});

Deno.test("GET /v1/urls does not blame a host for a listed name that only appears in its path", async () => {
  await using node = await startTestNode({ demo: true, config: { auth: { required: true } } });
  const body = await urlLookup(node.url, "http://good.example\\.evil.example/");
  assert.equal(body.verdict, "unknown");
  assert.equal(body.value, "http://good.example/.evil.example/");
});

Deno.test("POST /v1/lookup refuses 111 URLs with hosts of 4,000 labels each as too long, not expanding them", async () => {
  await using node = await startTestNode({ demo: true, config: { auth: { required: true } } });
  const value = `http://${"a.".repeat(4000)}/`;
  const results = await batch(
    node.url,
    Array.from({ length: 111 }, () => ({ type: "url", value })),
  );
  assert.equal(results.length, 111);
  for (const result of results) {
    const error = result.error as { code: string; message: string };
    assert.equal(error.code, "invalid_url");
    assert.match(error.message, /host is longer than 253 characters$/);
  }
});

Deno.test("POST /v1/lookup answers URLs nested in thousands of %25 levels, in host and path", async () => {
  await using node = await startTestNode({ demo: true, config: { auth: { required: true } } });
  const chain = `%25${"25".repeat(2600)}`;
  const results = await batch(node.url, [
    { type: "url", value: `http://evil.example/${chain}` },
    { type: "url", value: `http://${chain}65vil.example/` },
  ]);
  assert.equal(results[0].verdict, "malicious", "the path unescapes to one % sign");
  assert.equal(results[0].value, "http://evil.example/%25");
  // "%25...2565" unescapes to "%65", then to "e": the host is evil.example.
  assert.equal(results[1].verdict, "malicious", JSON.stringify(results[1]));
  assert.equal(results[1].value, "http://evil.example/");
});

/** The batch route alone, on a clock that moves `stepMs` each time it is read. */
function batchApp(
  budgetMs: number,
  stepMs: number,
): { app: Hono; metrics: ReturnType<typeof createHttpMetrics> } {
  let now = 0;
  const metrics = createHttpMetrics(() => {
    throw new Error("not scraped here");
  });
  const app = new Hono();
  const lookupItem = (type: string, value: string) => ({
    type,
    value,
    verdict: "unknown",
    ttl: 1,
    source: "none",
    via: "none",
  });
  const reputation = {
    lookupItem,
    lookupMany: (items: { type: string; value: string }[]) =>
      items.map((item) => lookupItem(item.type, item.value)),
    // Every hash is ruled out by the index: a plain body's items are answered from its bytes.
    surelyUnknown: () => true,
    unknownTtl: 1,
  };
  mountBatchRoutes(app, {
    metrics,
    log: memoryLogger(),
    reputation: reputation as never,
    guard: null,
    maxItems: 1000,
    maxBodyBytes: 1 << 20,
    budgetMs,
    answers: new AnswerText(),
    now: () => (now += stepMs),
  });
  return { app, metrics };
}

function hashes(n: number): { type: string; value: string }[] {
  return Array.from(
    { length: n },
    (_, i) => ({ type: "file", value: i.toString(16).padStart(32, "0") }),
  );
}

/**
 * A batch body in the plain form, answered from its bytes, or with each type escaped (`\u0066`
 * for its f), which only JSON.parse reads: the two ways through the batch route.
 */
const BODY_FORMS = {
  plain: (items: unknown[]): string => JSON.stringify({ items }),
  escaped: (items: unknown[]): string =>
    JSON.stringify({ items }).replaceAll('"file"', '"\\u0066ile"'),
};

for (const [form, bodyOf] of Object.entries(BODY_FORMS)) {
  Deno.test(`POST /v1/lookup answers the items past the batch's time budget with batch_budget_exceeded (${form} body)`, async () => {
    // The clock moves 100 ms each time it is read: at the start (100), before each slice of 64
    // items (200: 100 ms used, under the 250 ms budget; the slice runs, after a yield that
    // reads 300) and before the next (400: 300 ms used, over budget).
    const { app, metrics } = batchApp(250, 100);
    const res = await app.request("/v1/lookup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bodyOf(hashes(1000)),
    });
    assert.equal(res.status, 200);
    const { results } = await res.json();
    assert.equal(results.length, 1000);
    const answered = results.filter((r: { verdict?: string }) => r.verdict === "unknown").length;
    assert.equal(answered, 64);
    const refused = results.slice(64);
    assert.ok(
      refused.every((r: { error?: { code: string } }) => r.error?.code === "batch_budget_exceeded"),
    );
    assert.equal(refused[0].type, "file");
    assert.equal(refused[0].value, hashes(1000)[64].value, "each refused item names itself");
    assert.match(refused[0].error.message, /used its 250 ms of look-up time/);
    assert.equal(metrics.budgetExceeded.get(), 1);
  });
}

for (const [form, bodyOf] of Object.entries(BODY_FORMS)) {
  Deno.test(`POST /v1/lookup lets other work run between slices of a long batch (${form} body)`, async () => {
    // Every slice takes "5 ms" on this clock, more than a slice may run without yielding.
    const { app } = batchApp(60_000, 5);
    let ranMeanwhile = false;
    setTimeout(() => (ranMeanwhile = true), 0);
    const res = await app.request("/v1/lookup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bodyOf(hashes(1000)),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).results.length, 1000);
    assert.ok(ranMeanwhile, "a timer due before the batch ended ran before its answer");
  });
}

Deno.test("the cache of hits stays within 16 MiB under 3,000 distinct 8 KB URLs on a listed host", async () => {
  await using node = await startTestNode({ demo: true });
  const reputation = node.serving.node.reputation;
  const tail = "x".repeat(8000);
  // Each asked twice: the cache keeps a hit from its second ask.
  for (let i = 0; i < 3000; i++) {
    for (const _ask of [1, 2]) {
      const result = reputation.lookup("url", `http://evil.example/${i}/${tail}`);
      assert.equal(result.verdict, "malicious");
    }
  }
  const { entries, bytes } = reputation.hitCacheSize;
  assert.ok(bytes <= 16 * 1024 * 1024, `${bytes} bytes`);
  assert.ok(entries < 3000, `${entries} entries: the oldest left to stay within the bytes`);
  assert.ok(entries > 150, `${entries} entries: the cache still holds recent hits`);
});

Deno.test("POST /v1/lookup reads two batches at a time; the others wait before reading their bodies", async () => {
  const { app } = batchApp(60_000, 0);
  const body = new TextEncoder().encode(JSON.stringify({ items: hashes(10) }));
  // Five clients whose bodies arrive only when the test says so.
  const clients = Array.from({ length: 5 }, () => {
    let send!: () => void;
    let pulled = false;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller): Promise<void> {
        pulled = true;
        await new Promise<void>((resolve) => (send = resolve));
        controller.enqueue(body);
        controller.close();
      },
      // Pulled only when the handler reads, not ahead of it.
    }, { highWaterMark: 0 });
    const answer = app.request("/v1/lookup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    return { answer, pulled: (): boolean => pulled, send: (): void => send() };
  });
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
  await settle();
  assert.deepEqual(clients.map((c) => c.pulled()), [true, true, false, false, false]);
  clients[0].send();
  assert.equal((await clients[0].answer).status, 200);
  await settle();
  assert.deepEqual(clients.map((c) => c.pulled()), [true, true, true, false, false]);
  for (const [i, client] of clients.entries()) {
    if (i > 0) {
      while (!client.pulled()) await settle();
      client.send();
    }
    const answer = await client.answer;
    assert.equal(answer.status, 200, `client ${i}`);
    assert.equal((await answer.json()).results.length, 10);
  }
});
