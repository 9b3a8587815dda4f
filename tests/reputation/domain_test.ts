import assert from "node:assert/strict";
import { InvalidInputError, quote } from "../../src/core/errors.ts";
import { domainAndParents, normalizeDomain } from "../../src/reputation/domain.ts";

/** Asserts normalizeDomain rejects input with invalid_domain; returns the message. */
function rejection(input: string): string {
  try {
    normalizeDomain(input);
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
    assert.equal(error.code, "invalid_domain");
    assert.ok(error.message.startsWith(`Invalid domain ${quote(input)}: `), error.message);
    return error.message;
  }
  assert.fail(`expected invalid_domain for ${JSON.stringify(input)}`);
}

Deno.test("normalizeDomain lower-cases the name", () => {
  assert.equal(normalizeDomain("WWW.Example.COM"), "www.example.com");
});

Deno.test("normalizeDomain strips one trailing dot", () => {
  assert.equal(normalizeDomain("example.com."), "example.com");
});

Deno.test("normalizeDomain keeps hyphens, underscores and digits inside labels", () => {
  assert.equal(normalizeDomain("_dmarc.my-host1.example"), "_dmarc.my-host1.example");
});

Deno.test('normalizeDomain turns "bücher.example" into "xn--bcher-kva.example"', () => {
  assert.equal(normalizeDomain("bücher.example"), "xn--bcher-kva.example");
  assert.equal(normalizeDomain("BÜCHER.example."), "xn--bcher-kva.example");
});

Deno.test("normalizeDomain rejects an empty name, and a lone dot, as empty", () => {
  assert.match(rejection(""), /: empty$/);
  assert.match(rejection("."), /: empty$/);
});

Deno.test("normalizeDomain rejects a name longer than 253 characters", () => {
  const long = Array.from({ length: 5 }, () => "a".repeat(60)).join(".") + ".example";
  assert.ok(long.length > 253);
  assert.match(rejection(long), /longer than 253 characters \(312\)/);
});

Deno.test("normalizeDomain accepts a name of exactly 253 characters", () => {
  const name = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
  assert.equal(name.length, 253);
  assert.equal(normalizeDomain(name), name);
});

Deno.test("normalizeDomain rejects a label longer than 63 characters", () => {
  rejection(`${"a".repeat(64)}.example`);
});

Deno.test("normalizeDomain rejects labels with spaces", () => {
  assert.match(rejection("evil example.com"), /dot-separated labels/);
  rejection("bü cher.example");
});

Deno.test("normalizeDomain rejects empty labels and labels that start or end with a hyphen", () => {
  rejection("a..example");
  rejection("-a.example");
  rejection("a-.example");
});

Deno.test("normalizeDomain rejects IP-looking input and says to use type ip", () => {
  assert.match(rejection("192.0.2.1"), /an IP address, look it up as type "ip"/);
  assert.match(rejection("1.2.3"), /IP address/);
  assert.match(rejection("１９２.０.２.１"), /IP address/);
});

Deno.test("normalizeDomain rejects an IPv6 address or URL as not a name", () => {
  rejection("::1");
  rejection("[::1]");
  rejection("http://example.com/");
  rejection("example.com/path");
});

Deno.test({
  name: "normalizeDomain rejects non-ASCII input that carries user info, a port or a path",
  fn(): void {
    rejection("bü@cher.example");
    rejection("bücher.example/evil");
    rejection("bücher.example:80");
    rejection("bücher.example?x");
  },
});

Deno.test("domainAndParents lists the name, then each parent, most specific first", () => {
  assert.deepEqual(domainAndParents("a.b.evil.example"), [
    "a.b.evil.example",
    "b.evil.example",
    "evil.example",
    "example",
  ]);
});

Deno.test("domainAndParents of a single label is just that label", () => {
  assert.deepEqual(domainAndParents("localhost"), ["localhost"]);
});
