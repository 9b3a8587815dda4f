/**
 * The shape of a look-up result over real HTTP: field order type, value, verdict,
 * threat?, categories?, ttl, source, override?, firstSeen?, lastSeen?, match?, via, and
 * timestamps in ISO 8601 to the second.
 */
import assert from "node:assert/strict";
import type { TestNode } from "../_helpers.ts";
import { EICAR, getJson, type JsonResponse, startNode } from "./_http.ts";

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Every field a result can carry, in the documented order. */
const DOCUMENTED_ORDER = [
  "type",
  "value",
  "verdict",
  "threat",
  "categories",
  "ttl",
  "source",
  "override",
  "firstSeen",
  "lastSeen",
  "match",
  "via",
];

/** The documented order without the optional fields `absent`. */
function orderWithout(...absent: string[]): string[] {
  return DOCUMENTED_ORDER.filter((field) => !absent.includes(field));
}

/** GETs `path`, asserts a 200 whose body has exactly `fields` in that order, and returns the body. */
async function assertFieldOrder(
  node: TestNode,
  path: string,
  fields: string[],
): Promise<JsonResponse["body"]> {
  const res = await getJson(node, path);
  assert.equal(res.status, 200, path);
  assert.deepEqual(Object.keys(res.body), fields, path);
  return res.body;
}

Deno.test("a result with every field lists them in the documented order", async () => {
  await using node = await startNode({
    local: [{
      type: "domain",
      value: "full.test",
      verdict: "phishing",
      threat: "Test.Everything",
      categories: ["a", "b"],
      ttl: 600,
      firstSeen: "2026-01-01",
      lastSeen: "2026-02-03T04:05:06Z",
      source: "operator",
    }],
  });
  const body = await assertFieldOrder(node, "/v1/domains/www.full.test", DOCUMENTED_ORDER);
  assert.deepEqual(body, {
    type: "domain",
    value: "www.full.test",
    verdict: "phishing",
    threat: "Test.Everything",
    categories: ["a", "b"],
    ttl: 600,
    source: "operator",
    override: true,
    firstSeen: "2026-01-01T00:00:00Z",
    lastSeen: "2026-02-03T04:05:06Z",
    match: { type: "domain", value: "full.test" },
    via: "override",
  });
});

Deno.test("a file result lists its fields in the documented order without match", async () => {
  await using node = await startNode({ demo: true });
  await assertFieldOrder(node, `/v1/files/${EICAR.sha256}`, orderWithout("override", "match"));
});

Deno.test("a result leaves out the optional fields its record does not carry", async () => {
  await using node = await startNode({ demo: true });
  await assertFieldOrder(
    node,
    "/v1/files/000000000000000000000000000000000000de03",
    orderWithout("threat", "override", "firstSeen", "lastSeen", "match"),
  );
});

Deno.test("an unknown result is exactly type, value, verdict, ttl, source and via, in that order", async () => {
  await using node = await startNode({ demo: true });
  const fields = ["type", "value", "verdict", "ttl", "source", "via"];
  const body = await assertFieldOrder(node, "/v1/domains/nothing.example", fields);
  assert.equal(body.verdict, "unknown");
  assert.equal(body.source, "none");
  assert.equal(body.via, "none");
});

Deno.test("timestamps are ISO 8601 in whole seconds whatever form the record gave", async () => {
  await using node = await startNode({
    mirror: [
      { type: "domain", value: "date.test", verdict: "suspicious", firstSeen: "2026-03-04" },
      { type: "domain", value: "epoch.test", verdict: "suspicious", firstSeen: 1772582400 },
      {
        type: "domain",
        value: "millis.test",
        verdict: "suspicious",
        firstSeen: "2026-03-04T00:00:00.999Z",
      },
    ],
  });
  for (const name of ["date.test", "epoch.test", "millis.test"]) {
    const res = await getJson(node, `/v1/domains/${name}`);
    assert.equal(res.status, 200, name);
    assert.match(res.body.firstSeen, ISO_SECONDS, name);
    assert.equal(res.body.firstSeen, "2026-03-04T00:00:00Z", name);
    assert.ok(!("lastSeen" in res.body), name);
  }
});

Deno.test("an exactly listed domain or address names itself as the match", async () => {
  await using node = await startNode({ demo: true });
  const domain = await getJson(node, "/v1/domains/malware-c2.example");
  assert.equal(domain.status, 200);
  assert.deepEqual(domain.body.match, { type: "domain", value: "malware-c2.example" });
  const address = await getJson(node, "/v1/ips/192.0.2.66");
  assert.equal(address.status, 200);
  assert.deepEqual(address.body.match, { type: "ip", value: "192.0.2.66/32" });
});
