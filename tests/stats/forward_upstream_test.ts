/** The upstream client: what it sends, and how it classifies each kind of failure. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createHttpUpstream,
  HttpUpstream,
  parseRetryAfter,
  UpstreamError,
} from "../../src/upstream/mod.ts";
import { MAX_BACKOFF_MS, retryDelayMs } from "../../src/core/retry.ts";
import { tempDir } from "../_helpers.ts";
import { makeCertificate } from "../_tls.ts";
import { FakeParent, NODE_KEY, startFakeParent, statisticsBatch } from "./_forward.ts";

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof UpstreamError, String(err));
    return err;
  }
  throw new Error("expected the send to fail");
}

const STATUSES: readonly [status: number, retryable: boolean][] = [
  [500, true],
  [502, true],
  [503, true],
  [504, true],
  [408, true],
  [429, true],
  [400, false],
  [401, false],
  [403, false],
  [404, false],
  [409, false],
  [413, false],
  [422, false],
];

for (const [status, retryable] of STATUSES) {
  Deno.test(`an upstream answer of ${status} is ${retryable ? "retryable" : "permanent"} and named in the error`, async () => {
    await using parent = startFakeParent();
    parent.failNext(1, { status });
    const upstream = new HttpUpstream({ url: parent.url, key: NODE_KEY, timeoutSeconds: 5 });
    const err = await failureOf(upstream.sendStatistics("k", statisticsBatch("s")));
    assert.equal(err.retryable, retryable);
    assert.equal(err.upstreamStatus, status);
    const refusesNode = status === 401 || status === 403;
    assert.equal(
      err.message,
      `Upstream "${parent.url}/v1/stats" answered ${status}: fake_failure: Told to answer ${status}` +
        (refusesNode
          ? "; check this node's licence key in upstream.key, and that the parent has that " +
            "licence registered, active and allowing statistics (mode with-statistics)"
          : ""),
    );
  });
}

Deno.test("a 401 or 403 to a sample also tells the operator to check upstream.key and the licence at the parent", async () => {
  await using parent = startFakeParent();
  parent.failNext(1, { status: 403 });
  const upstream = new HttpUpstream({ url: parent.url, key: NODE_KEY, timeoutSeconds: 5 });
  const err = await failureOf(
    upstream.sendSample("ab".repeat(32), new Uint8Array([1]), { extension: null, detection: null }),
  );
  assert.equal(err.retryable, false);
  assert.match(
    err.message,
    /\/v1\/samples" answered 403: .*; check this node's licence key in upstream\.key, and that the parent has that licence registered, active and allowing statistics/,
  );
});

Deno.test("a 429 or 503 carries the parent's Retry-After in seconds", async () => {
  await using parent = startFakeParent();
  parent.failNext(1, { status: 429, retryAfter: "30" });
  parent.failNext(1, { status: 503, retryAfter: new Date(Date.now() + 90_000).toUTCString() });
  const upstream = new HttpUpstream({ url: parent.url, key: NODE_KEY, timeoutSeconds: 5 });
  assert.equal(
    (await failureOf(upstream.sendStatistics("a", statisticsBatch("a")))).retryAfterSeconds,
    30,
  );
  const dated =
    (await failureOf(upstream.sendStatistics("b", statisticsBatch("b")))).retryAfterSeconds;
  assert.ok(dated !== null && dated >= 88 && dated <= 91, String(dated));
});

Deno.test("Retry-After is read as seconds or an HTTP date; anything else is ignored", () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  assert.equal(parseRetryAfter("120", now), 120);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", now), 60);
  assert.equal(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0, "a past date means now");
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter("-5", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

Deno.test("a refused connection is retryable and the error names the URL", async () => {
  const parent = startFakeParent();
  const url = parent.url;
  await parent.stop();
  const upstream = new HttpUpstream({ url, key: NODE_KEY, timeoutSeconds: 5 });
  const err = await failureOf(upstream.sendStatistics("k", statisticsBatch("s")));
  assert.equal(err.retryable, true);
  assert.equal(err.upstreamStatus, null);
  assert.ok(err.message.startsWith(`Cannot reach upstream "${url}/v1/stats": `), err.message);
});

Deno.test("a parent that does not answer within the timeout is a retryable failure", async () => {
  await using parent = startFakeParent();
  parent.failNext(1, { delayMs: 1500 });
  const upstream = new HttpUpstream({ url: parent.url, key: NODE_KEY, timeoutSeconds: 0.2 });
  const err = await failureOf(upstream.sendStatistics("k", statisticsBatch("s")));
  assert.equal(err.retryable, true);
  assert.match(err.message, /no answer within 0\.2 s/);
  await new Promise((r) => setTimeout(r, 1400)); // let the slow answer finish before the server stops
});

Deno.test("a sample goes to POST /v1/samples as octet-stream with its hash, extension and detection", async () => {
  await using parent = startFakeParent();
  const upstream = new HttpUpstream({ url: `${parent.url}/`, key: NODE_KEY, timeoutSeconds: 5 });
  const bytes = new TextEncoder().encode("sample bytes");
  await upstream.sendSample("ab".repeat(32), bytes, { extension: "exe", detection: "EICAR-Test" });
  const [arrival] = parent.arrivals;
  assert.equal(arrival.path, "/v1/samples", "a trailing slash in the base URL is ignored");
  assert.equal(arrival.headers.get("content-type"), "application/octet-stream");
  assert.equal(arrival.headers.get("authorization"), `Bearer ${NODE_KEY}`);
  assert.equal(arrival.headers.get("x-sample-sha256"), "ab".repeat(32));
  assert.equal(arrival.headers.get("x-sample-name"), "sample.exe");
  assert.equal(arrival.headers.get("x-detection"), "EICAR-Test");
  assert.deepEqual(arrival.body, bytes);
});

Deno.test("no upstream is made without upstream.url, and a URL without a key is a config error", async () => {
  const base = { url: null, key: null, timeoutSeconds: 30, caCert: null };
  assert.equal(await createHttpUpstream(base), null);
  await assert.rejects(
    createHttpUpstream({ ...base, url: "https://core.example" }),
    /Invalid configuration "upstream.key": required when "upstream.url" is set/,
  );
});

Deno.test("an unreadable or non-PEM upstream.caCert is a config error naming the file", async () => {
  await using dir = await tempDir();
  const base = { url: "https://core.example", key: NODE_KEY, timeoutSeconds: 30 };
  const missing = join(dir.path, "missing.pem");
  await assert.rejects(
    createHttpUpstream({ ...base, caCert: missing }),
    new RegExp(`Cannot read upstream CA certificate "${missing}"`),
  );
  const junk = join(dir.path, "junk.pem");
  await Deno.writeTextFile(junk, "not a certificate");
  await assert.rejects(createHttpUpstream({ ...base, caCert: junk }), /is not PEM/);
});

Deno.test("the wait after each failure doubles from the base, with jitter, capped at 10 minutes", () => {
  const base = { baseMs: 1000 };
  const table: [attempt: number, random: number, wait: number][] = [
    [1, 0, 500],
    [1, 0.999999, 1000],
    [2, 0, 1000],
    [3, 0.5, 3000],
    [10, 0, 256_000],
    [11, 0, 300_000],
    [11, 0.999999, MAX_BACKOFF_MS],
    [60, 0.5, 450_000],
  ];
  for (const [attempt, random, wait] of table) {
    assert.equal(retryDelayMs(attempt, { ...base, random }), wait, `attempt ${attempt}`);
  }
  assert.equal(retryDelayMs(1, { ...base, random: 0, retryAfterSeconds: 90 }), 90_000);
  assert.equal(retryDelayMs(12, { ...base, random: 0, retryAfterSeconds: 1 }), 300_000);
  assert.equal(
    retryDelayMs(1, { ...base, random: 0, retryAfterSeconds: 86_400 }),
    3_600_000,
    "a Retry-After beyond an hour is held to an hour",
  );
});

/** A private CA and a certificate it signed for 127.0.0.1, as a parent's operator would make. */
async function privateCa(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const files = await makeCertificate(dir);
  return {
    ca: files.ca,
    cert: await Deno.readTextFile(files.cert),
    key: await Deno.readTextFile(files.key),
  };
}

Deno.test("a parent behind a private CA is reached when upstream.caCert names that CA, and not without it", async () => {
  await using dir = await tempDir();
  const pki = await privateCa(dir.path);
  await using parent = new FakeParent({ cert: pki.cert, key: pki.key }).start();
  const config = { url: parent.url, key: NODE_KEY, timeoutSeconds: 5 };

  const untrusting = (await createHttpUpstream({ ...config, caCert: null }))!;
  const refused = await failureOf(untrusting.sendStatistics("tls-1", statisticsBatch("t")));
  assert.equal(refused.retryable, true, "a TLS failure waits in the spool for the operator to fix");
  assert.match(refused.message, /Cannot reach upstream "https:\/\/127\.0\.0\.1:\d+\/v1\/stats"/);

  const trusting = (await createHttpUpstream({ ...config, caCert: pki.ca }))!;
  try {
    await trusting.sendStatistics("tls-2", statisticsBatch("t"));
  } finally {
    trusting.close();
  }
  assert.deepEqual([...parent.batches.keys()], ["tls-2"]);
});
