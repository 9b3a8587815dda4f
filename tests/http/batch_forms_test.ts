/**
 * POST /v1/lookup answers a body in the plain form from its bytes (api/batch_scan.ts and
 * batch_bytes.ts) and any other body through JSON.parse. These tests send the same items both
 * ways, the second with its top-level key escaped (`"\u0069tems"`, which only JSON.parse
 * reads), over a real database, and ask for the same answer to the byte and the same counts.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { mountBatchRoutes } from "../../src/api/batch.ts";
import { AnswerText } from "../../src/api/answer_text.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { createHttpMetrics } from "../../src/http/http_metrics.ts";
import { type IndexHolder, Reputation } from "../../src/reputation/lookup.ts";
import { buildIndex } from "../../src/reputation/reputation_index.ts";
import { EntryRepository, ORIGIN_LOCAL, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { importNdjson, withDb } from "../_helpers.ts";

const NOW = Date.UTC(2026, 11, 3, 12);
const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
const CERT = "00000000000000000000000000000000000ce401";

const MIRROR = [
  { type: "file", value: MD5, verdict: "malicious", threat: "EICAR-Test-File", ttl: 600 },
  { type: "file", value: SHA1, verdict: "malicious", categories: ["test", "ünïcode"] },
  { type: "file", value: SHA256, verdict: "clean", firstSeen: "2026-01-02T03:04:05Z" },
  { type: "cert", value: CERT, verdict: "clean" },
  { type: "domain", value: "evil.example", verdict: "malicious" },
  { type: "ip", value: "192.0.2.0/24", verdict: "suspicious" },
  { type: "url", value: "bad.example/path", verdict: "phishing" },
];
const LOCAL = [{ type: "file", value: SHA256, verdict: "malicious", threat: "Local-Rule" }];

/** Item lists that cover each way an item goes: ruled out, hit, bad, other types. */
const BATCHES: Record<string, unknown[]> = {
  "unknown hashes of each length and case": [
    { type: "file", value: "0".repeat(32) },
    { type: "file", value: "ab".repeat(20) },
    { type: "file", value: "Cd".repeat(32) },
    { type: "cert", value: "EF".repeat(20) },
    { type: "cert", value: "01".repeat(32) },
  ],
  "listed hashes, an override and a cert, asked twice": [
    { type: "file", value: MD5 },
    { type: "file", value: SHA1.toUpperCase() },
    { type: "file", value: SHA256 },
    { type: "cert", value: CERT },
    { type: "file", value: MD5 },
    { type: "file", value: SHA1 },
    { type: "cert", value: CERT.toUpperCase() },
  ],
  "hashes that share a listed one's prefix": [
    { type: "file", value: MD5.slice(0, 8) + "0".repeat(24) },
    { type: "file", value: SHA256.slice(0, 8) + "f".repeat(56) },
  ],
  "bad values and types": [
    { type: "file", value: "" },
    { type: "file", value: "abc" },
    { type: "file", value: "g".repeat(32) },
    { type: "file", value: "0".repeat(33) },
    { type: "cert", value: "0".repeat(32) },
    { type: "cert", value: "ab:cd" },
    { type: "host", value: "evil.example" },
    { type: "", value: "" },
    { type: "FILE", value: MD5 },
    { type: "file ", value: MD5 },
  ],
  "a thumbprint with colons and spaces": [
    { type: "cert", value: CERT.match(/../g)!.join(":") },
    { type: "cert", value: CERT.match(/../g)!.join(" ") },
  ],
  "domains, IPs and URLs": [
    { type: "domain", value: "a.b.evil.example" },
    { type: "domain", value: "EVIL.example." },
    { type: "domain", value: "nothing.example" },
    { type: "ip", value: "192.0.2.66" },
    { type: "ip", value: "198.51.100.1" },
    { type: "ip", value: "::1" },
    { type: "ip", value: "300.1.1.1" },
    { type: "url", value: "http://bad.example/path/deeper?q=1" },
    { type: "url", value: "https://good.example/" },
    { type: "url", value: "not a url" },
    { type: "domain", value: "a..b" },
  ],
  "no items": [],
};

interface BatchApp {
  /** Status and body text of a POST with `body`. */
  post(body: string): Promise<{ status: number; text: string }>;
  /** The response to a POST with `body`, its body not yet read. */
  send(body: string): Promise<Response>;
  /** The verdict counter's text. */
  verdicts(): string;
}

async function withBatchApp(
  mode: "current" | "stale" | "off",
  fn: (app: BatchApp) => Promise<void>,
): Promise<void> {
  await withDb(async (db) => {
    await importNdjson(db, MIRROR, ORIGIN_MIRROR);
    await importNdjson(db, LOCAL, ORIGIN_LOCAL);
    const index: IndexHolder = { current: await buildIndex(db, { now: NOW }) };
    const reputation = new Reputation({
      entries: new EntryRepository(db),
      index,
      ttl: { unknown: 77, default: 3600 },
      mirrorMode: { mode },
    });
    const metrics = createHttpMetrics(() => {
      throw new Error("not scraped here");
    });
    const app = new Hono();
    mountBatchRoutes(app, {
      metrics,
      log: memoryLogger(),
      reputation,
      guard: null,
      maxItems: 20,
      maxBodyBytes: 1 << 16,
      budgetMs: 60_000,
      answers: new AnswerText(),
    });
    const send = async (body: string): Promise<Response> =>
      await app.request("/v1/lookup", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    await fn({
      send,
      post: async (body) => {
        const res = await send(body);
        return { status: res.status, text: await res.text() };
      },
      verdicts: () => metrics.verdicts.render(),
    });
  });
}

const plain = (items: unknown[]): string => JSON.stringify({ items });
const escaped = (items: unknown[]): string =>
  JSON.stringify({ items }).replace("items", "\\u0069tems");

/** Asks `app` both ways and checks the answers and the verdicts counted agree. */
async function assertSameBothWays(
  mode: "current" | "stale" | "off",
  bodies: { plain: string; parsed: string },
  label: string,
): Promise<void> {
  let byBytes!: { status: number; text: string; verdicts: string };
  await withBatchApp(mode, async (app) => {
    byBytes = { ...await app.post(bodies.plain), verdicts: app.verdicts() };
  });
  await withBatchApp(mode, async (app) => {
    const byJson = { ...await app.post(bodies.parsed), verdicts: app.verdicts() };
    assert.deepEqual(byBytes, byJson, label);
  });
}

for (const mode of ["current", "stale", "off"] as const) {
  Deno.test(`POST /v1/lookup: a plain body and a parsed one get the same answer, mirror ${mode}`, async () => {
    for (const [label, items] of Object.entries(BATCHES)) {
      await assertSameBothWays(mode, { plain: plain(items), parsed: escaped(items) }, label);
    }
    const all = Object.values(BATCHES).flat();
    await assertSameBothWays(mode, {
      plain: plain(all.slice(0, 20)),
      parsed: escaped(all.slice(0, 20)),
    }, "mixed");
  });
}

Deno.test("POST /v1/lookup: the plain form's white space, key order and escapes give the same answer", async () => {
  const items = [{ type: "file", value: MD5 }, { type: "file", value: "0".repeat(64) }];
  const reference = escaped(items);
  const forms = [
    ` \n{ "items" :\t[ { "type" : "file" , "value" : "${MD5}" } ,\r\n{"type":"file","value":"${
      "0".repeat(64)
    }"} ] }\n `,
    `{"items":[{"value":"${MD5}","type":"file"},{"value":"${"0".repeat(64)}","type":"file"}]}`,
    `{"items":[{"type":"fil\\u0065","value":"${MD5}"},{"type":"file","value":"${
      "0".repeat(64)
    }"}]}`,
    `{"items":[{"type":"file","value":"${MD5}"},{"type":"file","value":"${
      "0".repeat(63)
    }\\u0030"}]}`,
  ];
  for (const form of forms) {
    await assertSameBothWays("current", { plain: form, parsed: reference }, form);
  }
});

Deno.test("POST /v1/lookup: bodies the scan gives up on are answered or refused as JSON says", async () => {
  const cases: [body: string, status: number, code?: string][] = [
    [`{"items":[{"type":"file","value":"${MD5}","extra":1}]}`, 200],
    [`{"items":[{"type":"file","value":"${MD5}"}],"more":1}`, 400, "invalid_request"],
    [`{"items":[{"type":"file","type":"cert","value":"${CERT}"}]}`, 200],
    [`{"items":[{"type":"file","value":"${MD5}"}]`, 400, "invalid_json"],
    [`{"items":[{"type":"file","value":"${MD5}"},]}`, 400, "invalid_json"],
    [`{"items":[{"type":"file","value":"a\tb"}]}`, 400, "invalid_json"],
    [`{"items":[42,{"type":"file","value":"${MD5}"}]}`, 200],
    [`{"items":[{"type":"domain","value":"bücher.example"}]}`, 200],
    [`\u{feff}{"items":[{"type":"file","value":"${MD5}"}]}`, 200],
    [`{"items":{}}`, 400, "invalid_request"],
  ];
  await withBatchApp("current", async (app) => {
    for (const [body, status, code] of cases) {
      const res = await app.post(body);
      assert.equal(res.status, status, body);
      if (code !== undefined) assert.equal(JSON.parse(res.text).error.code, code, body);
      else assert.ok(Array.isArray(JSON.parse(res.text).results), body);
    }
  });
});

Deno.test("POST /v1/lookup: too many items is refused the same way in either form", async () => {
  const items = Array.from({ length: 21 }, () => ({ type: "file", value: MD5 }));
  await withBatchApp("current", async (app) => {
    const byBytes = await app.post(plain(items));
    const byJson = await app.post(escaped(items));
    assert.equal(byBytes.status, 413);
    assert.deepEqual(byBytes, byJson);
    assert.match(JSON.parse(byBytes.text).error.message, /Too many items: 21; at most 20/);
  });
});

Deno.test("POST /v1/lookup: an answer read after later batches reused its buffers is still its own", async () => {
  const first = [{ type: "file", value: "a".repeat(64) }, { type: "file", value: MD5 }];
  const later = [{ type: "file", value: "b".repeat(64) }, { type: "cert", value: "c".repeat(40) }];
  await withBatchApp("current", async (app) => {
    const expected = await app.post(plain(first));
    const held = await app.send(plain(first));
    // Each later batch takes the kept buffers and writes its own answer over them.
    for (let i = 0; i < 3; i++) assert.equal((await app.post(plain(later))).status, 200);
    assert.equal(await held.text(), expected.text);
  });
});
