/** /healthz, /readyz and /metrics over real HTTP. */
import assert from "node:assert/strict";
import { ORIGIN_LOCAL } from "../../src/store/entries.ts";
import { SCHEMA_VERSION } from "../../src/store/migrations.ts";
import type { TestNode } from "../_helpers.ts";
import {
  assertErrorResponse,
  assertJsonType,
  EICAR,
  getJson,
  importInto,
  postLookup,
  startNode,
  stopAfterClosingDatabase,
} from "./_http.ts";

const LATENCY_BUCKETS = [
  "0.0001",
  "0.00025",
  "0.0005",
  "0.001",
  "0.0025",
  "0.005",
  "0.01",
  "0.025",
  "0.05",
  "0.1",
  "0.25",
  "1",
  "+Inf",
];

/** Scrapes /metrics into `series → value`, where a series is `name{labels}` as written. */
async function scrape(node: TestNode): Promise<Map<string, number>> {
  const res = await fetch(`${node.url}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

function requests(route: string, status: number): string {
  return `pksn_http_requests_total{route="${route}",status="${status}"}`;
}

Deno.test("GET /healthz answers 200 ok", async () => {
  await using node = await startNode();
  const res = await getJson(node, "/healthz");
  assert.equal(res.status, 200);
  assertJsonType(res.headers);
  assert.deepEqual(res.body, { status: "ok" });
});

Deno.test("GET /readyz answers 200 ready with the schema version", async () => {
  await using node = await startNode();
  const res = await getJson(node, "/readyz");
  assert.equal(res.status, 200);
  assertJsonType(res.headers);
  assert.deepEqual(res.body, { status: "ready", schemaVersion: SCHEMA_VERSION });
  assert.equal(typeof res.body.schemaVersion, "number");
});

Deno.test("GET /readyz answers 503 not_ready once the database is closed, while /healthz stays 200", async () => {
  const node = await startNode();
  try {
    node.serving.node.db.close();
    const message = await assertErrorResponse(
      await fetch(`${node.url}/readyz`),
      503,
      "not_ready",
    );
    assert.ok(message.startsWith("Database is not open"), message);
    const alive = await getJson(node, "/healthz");
    assert.equal(alive.status, 200);
  } finally {
    await stopAfterClosingDatabase(node);
  }
});

Deno.test("GET /metrics answers in the Prometheus text format 0.0.4", async () => {
  await using node = await startNode({ demo: true });
  await fetch(`${node.url}/v1/files/${EICAR.md5}`).then((r) => r.body?.cancel());
  const res = await fetch(`${node.url}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4(;|$)/);
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const families = new Map<string, string>();
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      families.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    assert.match(line, /^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? [-+0-9.e]+$/i, line);
  }
  assert.equal(families.get("pksn_http_requests_total"), "counter");
  assert.equal(families.get("pksn_lookup_duration_seconds"), "histogram");
  assert.equal(families.get("pksn_verdicts_total"), "counter");
  assert.equal(families.get("pksn_records"), "gauge");
});

Deno.test("GET /metrics counts requests by route pattern and status", async () => {
  await using node = await startNode({ demo: true });
  const before = await scrape(node);
  for (const hash of [EICAR.md5, EICAR.sha1, EICAR.sha256]) {
    await fetch(`${node.url}/v1/files/${hash}`).then((r) => r.body?.cancel());
  }
  await fetch(`${node.url}/v1/files/abc`).then((r) => r.body?.cancel());
  await fetch(`${node.url}/v1/ips/10.0.0.0/8`).then((r) => r.body?.cancel());
  const after = await scrape(node);
  const delta = (series: string): number => (after.get(series) ?? 0) - (before.get(series) ?? 0);
  assert.equal(delta(requests("/v1/files/:hash", 200)), 3);
  assert.equal(delta(requests("/v1/files/:hash", 400)), 1);
  assert.equal(delta(requests("/v1/ips/:address", 200)), 1);
});

Deno.test("GET /metrics counts requests that match no route under one label", async () => {
  await using node = await startNode();
  await fetch(`${node.url}/no/such/path`).then((r) => r.body?.cancel());
  await fetch(`${node.url}/another`).then((r) => r.body?.cancel());
  const samples = await scrape(node);
  assert.equal(samples.get(requests("unmatched", 404)), 2);
  for (const series of samples.keys()) {
    assert.ok(!series.includes("/no/such/path"), `raw path leaked into ${series}`);
  }
});

Deno.test("GET /metrics keeps a cumulative look-up latency histogram per route", async () => {
  await using node = await startNode({ demo: true });
  for (let i = 0; i < 5; i++) {
    await fetch(`${node.url}/v1/files/${EICAR.md5}`).then((r) => r.body?.cancel());
  }
  const samples = await scrape(node);
  const route = 'route="/v1/files/:hash"';
  let previous = 0;
  for (const le of LATENCY_BUCKETS) {
    const series = `pksn_lookup_duration_seconds_bucket{${route},le="${le}"}`;
    const count = samples.get(series);
    assert.ok(count !== undefined, `missing ${series}`);
    assert.ok(count >= previous, `${series} is ${count}, below ${previous}`);
    previous = count;
  }
  assert.equal(previous, 5, "the +Inf bucket holds every observation");
  assert.equal(samples.get(`pksn_lookup_duration_seconds_count{${route}}`), 5);
  const sum = samples.get(`pksn_lookup_duration_seconds_sum{${route}}`)!;
  assert.ok(sum > 0 && sum < 5, `sum ${sum}`);
});

Deno.test("GET /metrics counts verdicts by object type from single and batch look-ups", async () => {
  await using node = await startNode({ demo: true });
  const malicious = 'pksn_verdicts_total{type="file",verdict="malicious"}';
  const unknown = 'pksn_verdicts_total{type="file",verdict="unknown"}';
  const before = await scrape(node);
  await fetch(`${node.url}/v1/files/${EICAR.md5}`).then((r) => r.body?.cancel());
  await fetch(`${node.url}/v1/files/${EICAR.sha256}`).then((r) => r.body?.cancel());
  const batch = await postLookup(node, {
    items: [
      // Runs of equal verdicts are counted a run at a time, broken by an item's own error.
      { type: "file", value: EICAR.sha1 },
      { type: "file", value: "f".repeat(32) },
      { type: "file", value: "e".repeat(32) },
      { type: "file", value: "not-a-hash" },
      { type: "file", value: "d".repeat(32) },
      { type: "file", value: EICAR.md5 },
    ],
  });
  assert.equal(batch.status, 200);
  const after = await scrape(node);
  assert.equal((after.get(malicious) ?? 0) - (before.get(malicious) ?? 0), 4);
  assert.equal((after.get(unknown) ?? 0) - (before.get(unknown) ?? 0), 3);
});

Deno.test("GET /metrics reports stored records by object type and origin", async () => {
  await using node = await startNode({ demo: true });
  const expected: Record<string, [mirror: number, local: number]> = {
    file: [6, 0], // EICAR under three hashes, three one-hash demo files
    url: [3, 0],
    domain: [2, 1],
    ip: [3, 0],
    cert: [2, 0],
  };
  const samples = await scrape(node);
  for (const [type, [mirror, local]] of Object.entries(expected)) {
    assert.equal(samples.get(`pksn_records{type="${type}",origin="mirror"}`), mirror, type);
    assert.equal(samples.get(`pksn_records{type="${type}",origin="local"}`), local, type);
  }
  await importInto(node, [{ type: "file", md5: EICAR.md5, verdict: "clean" }], ORIGIN_LOCAL);
  const after = await scrape(node);
  assert.equal(after.get('pksn_records{type="file",origin="local"}'), 1);
  assert.equal(after.get('pksn_records{type="file",origin="mirror"}'), 6);
});
