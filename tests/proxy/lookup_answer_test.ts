/** Reading the parent's look-up answer: another machine's output, checked field by field. */
import assert from "node:assert/strict";
import { type ParentLookupItem, readLookupAnswer } from "../../src/upstream/mod.ts";

const HASH = "44d88612fea8a8f36de82e1278abb02f";
const FILE: ParentLookupItem = { type: "file", value: HASH };
const URL_ITEM: ParentLookupItem = { type: "url", value: "http://example.test/login" };

function answerText(results: unknown[]): string {
  return JSON.stringify({ results });
}

Deno.test("a good answer keeps only the record's fields, in the documented order", () => {
  // Fields shuffled, plus the parent's own via/override/stale/proxyTimeout and a stranger.
  const raw = {
    match: { type: "file", value: HASH },
    lastSeen: "2026-11-02T00:00:00Z",
    via: "mirror",
    firstSeen: "2026-10-01T00:00:00Z",
    source: "urlhaus",
    override: true,
    ttl: 3600,
    stale: true,
    proxyTimeout: true,
    categories: ["trojan"],
    threat: "EICAR-Test-File",
    verdict: "malicious",
    value: HASH,
    type: "file",
    extra: "ignored",
  };
  const [answer] = readLookupAnswer(answerText([raw]), [FILE]);
  assert.deepEqual(answer, {
    type: "file",
    value: HASH,
    verdict: "malicious",
    threat: "EICAR-Test-File",
    categories: ["trojan"],
    ttl: 3600,
    source: "urlhaus",
    firstSeen: "2026-10-01T00:00:00Z",
    lastSeen: "2026-11-02T00:00:00Z",
    match: { type: "file", value: HASH },
  });
  assert.deepEqual(Object.keys(answer!), [
    "type",
    "value",
    "verdict",
    "threat",
    "categories",
    "ttl",
    "source",
    "firstSeen",
    "lastSeen",
    "match",
  ]);
});

Deno.test("an answer with only the required fields gains no optional ones", () => {
  const [answer] = readLookupAnswer(
    answerText([{ type: "file", value: HASH, verdict: "unknown", via: "none" }]),
    [FILE],
  );
  assert.deepEqual(answer, { type: "file", value: HASH, verdict: "unknown" });
  assert.deepEqual(Object.keys(answer!), ["type", "value", "verdict"]);
});

Deno.test("an item the parent answered with an error of its own becomes null, the others are kept", () => {
  const answers = readLookupAnswer(
    answerText([
      {
        type: "url",
        value: "http://example.test/login",
        error: { code: "invalid_url", message: "Cannot parse URL" },
      },
      { type: "file", value: HASH, verdict: "clean" },
    ]),
    [URL_ITEM, FILE],
  );
  assert.deepEqual(answers, [null, { type: "file", value: HASH, verdict: "clean" }]);
});

Deno.test("an empty answer for no items is an empty list", () => {
  assert.deepEqual(readLookupAnswer('{"results":[]}', []), []);
});

Deno.test("an answer that is not JSON is rejected with a message saying so", () => {
  assert.throws(() => readLookupAnswer("<html>502 Bad Gateway</html>", [FILE]), /not JSON/);
});

Deno.test("an answer without a results array is rejected with a message naming results", () => {
  for (const text of ["{}", '{"results":{}}', "[]", "null", '{"error":{"code":"internal"}}']) {
    assert.throws(() => readLookupAnswer(text, [FILE]), /results/, text);
  }
});

Deno.test("an answer with another number of results than items asked is rejected with both counts", () => {
  const one = { type: "file", value: HASH, verdict: "clean" };
  assert.throws(
    () => readLookupAnswer(answerText([one, one]), [FILE]),
    /2 results for 1 items/,
  );
  assert.throws(() => readLookupAnswer(answerText([one]), [FILE, FILE]), /1 results for 2 items/);
});

Deno.test("a result of another type than the item asked is rejected naming both types", () => {
  assert.throws(
    () =>
      readLookupAnswer(
        answerText([{ type: "url", value: "http://example.test/", verdict: "clean" }]),
        [FILE],
      ),
    /result 0 is of type url, not file/,
  );
});

Deno.test("a result with a verdict outside the known ones is rejected naming the field", () => {
  assert.throws(
    () =>
      readLookupAnswer(
        answerText([
          { type: "file", value: HASH, verdict: "clean" },
          { type: "file", value: HASH, verdict: "evil" },
        ]),
        [FILE, FILE],
      ),
    /result 1: verdict/,
  );
});

Deno.test("a result with an over-long value is rejected naming the field", () => {
  const value = "http://example.test/" + "a".repeat(16_384);
  assert.throws(
    () => readLookupAnswer(answerText([{ type: "url", value, verdict: "clean" }]), [URL_ITEM]),
    /result 0: value/,
  );
});

Deno.test("a result missing its verdict, or an item error without a code, is rejected", () => {
  assert.throws(
    () => readLookupAnswer(answerText([{ type: "file", value: HASH }]), [FILE]),
    /result 0: verdict/,
  );
  assert.throws(
    () => readLookupAnswer(answerText([{ type: "file", value: HASH, error: {} }]), [FILE]),
    /result 0/,
  );
});

Deno.test("a file result for another hash than asked is rejected; a URL is kept under the form asked", () => {
  const other = "f".repeat(HASH.length);
  assert.throws(
    () =>
      readLookupAnswer(answerText([{ type: "file", value: other, verdict: "malicious" }]), [FILE]),
    new RegExp(`result 0 is for ${other}, not ${HASH}`),
  );
  const [url] = readLookupAnswer(
    answerText([{ type: "url", value: "http://example.test/login?", verdict: "clean" }]),
    [URL_ITEM],
  );
  assert.equal(url!.value, URL_ITEM.value);
});
