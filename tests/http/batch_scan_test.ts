/**
 * The batch scan (api/batch_scan.ts) against JSON.parse: whatever body it reads, JSON.parse
 * reads the same items from it, and it reads nothing JSON.parse refuses. Bodies are made and
 * broken at random from a fixed seed, so a failure names a body that can be made again.
 */
import assert from "node:assert/strict";
import { scanBatch, spansFor, TYPE_CODE, TYPE_NAMES } from "../../src/api/batch_scan.ts";
import { seededRandom } from "../_random.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the scan read, as strings: null when it gave up. */
function scanned(body: string): { type: string; value: string }[] | null {
  const bytes = encoder.encode(body);
  const batch = scanBatch(bytes, spansFor(10));
  if (batch === null) return null;
  const items = [];
  for (let i = 0; i < batch.count; i++) {
    const [code, start, end, typeStart] = batch.spans.subarray(4 * i, 4 * i + 4);
    const type = code === TYPE_CODE.other
      ? decoder.decode(bytes.subarray(typeStart, bytes.indexOf(34, typeStart)))
      : TYPE_NAMES[code];
    items.push({ type, value: decoder.decode(bytes.subarray(start, end)) });
  }
  return items;
}

/** What JSON.parse reads when the body is a plain batch; null when it is not JSON. */
function parsed(body: string): { plain: boolean; items?: unknown } | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  const plain = typeof json === "object" && json !== null && !Array.isArray(json) &&
    Object.keys(json).length === 1 && Array.isArray((json as { items?: unknown }).items) &&
    (json as { items: unknown[] }).items.every((item) =>
      typeof item === "object" && item !== null &&
      Object.keys(item).sort().join() === "type,value" &&
      typeof (item as { type: unknown }).type === "string" &&
      typeof (item as { value: unknown }).value === "string"
    );
  return { plain, items: (json as { items?: unknown })?.items };
}

function assertAgrees(body: string): "scanned" | "given up" {
  const byScan = scanned(body);
  const byJson = parsed(body);
  if (byScan === null) return "given up";
  assert.ok(byJson !== null, `the scan read a body JSON.parse refuses: ${body}`);
  assert.ok(byJson.plain, `the scan read a body that is not a plain batch: ${body}`);
  assert.deepEqual(
    byScan,
    (byJson.items as { type: string; value: string }[]).map(({ type, value }) => ({ type, value })),
    body,
  );
  return "scanned";
}

const PIECES = [
  "file",
  "cert",
  "domain",
  "ip",
  "url",
  "",
  "x",
  "FILE",
  "44d88612fea8a8f36de82e1278abb02f",
  "a b",
  'a"b',
  "a\\b",
  "a/b",
  "ü",
  "\u0000",
  "\t",
  "\u2028",
  "{}",
  "[",
  "type",
  "value",
];
const SPACES = ["", "", "", " ", "\n", "\t", "\r\n", "  "];
const JUNK = ['"', "\\", ",", ":", "{", "}", "[", "]", " ", "a", "0", "\u00e9", "\u0001", "n"];

function body(next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const s = () => pick(SPACES);
  const str = (text: string) => next() < 0.1 ? `"${text}` : JSON.stringify(text);
  const items = Array.from({ length: Math.floor(next() * 6) }, () => {
    const fields = [
      `${s()}"type"${s()}:${s()}${str(pick(PIECES))}${s()}`,
      `${s()}"value"${s()}:${s()}${str(pick(PIECES) + pick(PIECES))}${s()}`,
    ];
    if (next() < 0.3) fields.reverse();
    if (next() < 0.05) fields.push(`"type":"file"`);
    return `${s()}{${fields.join(",")}}${s()}`;
  });
  let text = `${s()}{${s()}"items"${s()}:${s()}[${items.join(",")}]${s()}}${s()}`;
  // Break it now and then: a byte dropped, one put in, the end cut off.
  const breaks = next() < 0.5 ? 0 : 1 + Math.floor(next() * 3);
  for (let b = 0; b < breaks; b++) {
    const at = Math.floor(next() * (text.length + 1));
    const how = next();
    if (how < 0.4) text = text.slice(0, at) + text.slice(at + 1);
    else if (how < 0.8) text = text.slice(0, at) + pick(JUNK) + text.slice(at);
    else text = text.slice(0, at);
  }
  return text;
}

Deno.test("the batch scan reads exactly what JSON.parse reads, or gives up (20,000 random bodies)", () => {
  const next = seededRandom(20261203);
  const outcomes = { "scanned": 0, "given up": 0 };
  for (let i = 0; i < 20_000; i++) outcomes[assertAgrees(body(next))]++;
  // Both ways are taken often enough for the comparison to mean something.
  assert.ok(outcomes.scanned > 2_000, JSON.stringify(outcomes));
  assert.ok(outcomes["given up"] > 2_000, JSON.stringify(outcomes));
});

Deno.test("the batch scan reads the plain form with any JSON white space and either key order", () => {
  const md5 = "44d88612fea8a8f36de82e1278abb02f";
  assert.deepEqual(scanned(`{"items":[]}`), []);
  assert.deepEqual(scanned(` \t\r\n{ "items" : [ ] } \n`), []);
  assert.deepEqual(
    scanned(`{"items":[{"value":"${md5}","type":"file"},{"type":"url","value":"http://a/"}]}`),
    [
      { type: "file", value: md5 },
      { type: "url", value: "http://a/" },
    ],
  );
  assert.deepEqual(scanned(`{"items":[{"type":"Host","value":""}]}`), [{
    type: "Host",
    value: "",
  }]);
});

Deno.test("the batch scan gives up on what it does not read as JSON.parse would", () => {
  for (
    const body of [
      "",
      "[]",
      `{"items":[],"items":[]}`,
      `{"\\u0069tems":[]}`,
      `{"items":[{"type":"f\\u0069le","value":"x"}]}`,
      `{"items":[{"type":"file","value":"é"}]}`,
      `{"items":[{"type":"file","value":1}]}`,
      `{"items":[{"type":"file"}]}`,
      `{"items":[{"type":"file","value":"x","value":"y"}]}`,
      `{"items":[{"type":"file","value":"x"},]}`,
      `{"items":[{"type":"file","value":"x"}]}x`,
      `\u{feff}{"items":[]}`,
      `{"items":[null]}`,
      `{"items":[{"type":"file","value":"x"}`,
    ]
  ) {
    assert.equal(scanBatch(encoder.encode(body), spansFor(10)), null, body);
  }
});

Deno.test("the batch scan counts and checks every item but keeps only those it has room for", () => {
  const items = Array.from({ length: 5 }, (_, i) => ({ type: "file", value: `v${i}` }));
  const bytes = encoder.encode(JSON.stringify({ items }));
  const batch = scanBatch(bytes, spansFor(2));
  assert.equal(batch?.count, 5);
  assert.equal(batch.spans.length, 8);
  assert.equal(decoder.decode(bytes.subarray(batch.spans[5], batch.spans[6])), "v1");
  // A broken item past the room still makes the scan give up.
  const broken = encoder.encode(JSON.stringify({ items }).replace('"v4"', "4"));
  assert.equal(scanBatch(broken, spansFor(2)), null);
});
