import assert from "node:assert/strict";
import { InvalidInputError } from "../../src/core/errors.ts";
import { parseDigest, parseThumbprint, scanDigest } from "../../src/reputation/hash.ts";
import { toHex } from "../../src/core/encoding.ts";
import { statusOf } from "../../src/http/mod.ts";

const MD5 = "44d88612fea8a8f36de82e1278abb02f";
const SHA1 = "3395856ce81f2b7382dee72602f798b642f14140";
const SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";

/** Asserts fn throws an InvalidInputError with `code`; returns its message. */
function messageOf(fn: () => unknown, code: string): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${error}`);
    assert.equal(error.code, code);
    assert.equal(statusOf(error), 400);
    return error.message;
  }
  assert.fail(`expected ${code}`);
}

Deno.test("parseDigest reads 32 hex characters as MD5 with 16 bytes", () => {
  const digest = parseDigest(MD5);
  assert.equal(digest.kind, "md5");
  assert.equal(digest.hex, MD5);
  assert.equal(digest.bytes.length, 16);
  assert.deepEqual([...digest.bytes.subarray(0, 3)], [0x44, 0xd8, 0x86]);
});

Deno.test("parseDigest reads 40 hex characters as SHA-1 with 20 bytes", () => {
  const digest = parseDigest(SHA1);
  assert.equal(digest.kind, "sha1");
  assert.equal(digest.bytes.length, 20);
});

Deno.test("parseDigest reads 64 hex characters as SHA-256 with 32 bytes", () => {
  const digest = parseDigest(SHA256);
  assert.equal(digest.kind, "sha256");
  assert.equal(digest.bytes.length, 32);
  assert.equal(toHex(digest.bytes), SHA256);
});

Deno.test("parseDigest turns mixed-case hex into lower-case hex with the same bytes", () => {
  const mixed = "44D88612fea8A8F36DE82e1278abb02F";
  const digest = parseDigest(mixed);
  assert.equal(digest.hex, MD5);
  assert.deepEqual(digest.bytes, parseDigest(MD5).bytes);
});

Deno.test("parseDigest names a non-hex character and its 1-based position", () => {
  const bad = MD5.slice(0, 9) + "g" + MD5.slice(10);
  const message = messageOf(() => parseDigest(bad), "invalid_hash");
  assert.match(message, /"g" at position 10 is not a hex digit/);
  assert.ok(message.includes(JSON.stringify(bad)), message);
});

Deno.test("parseDigest names a bad first character as position 1", () => {
  const message = messageOf(() => parseDigest("z" + MD5.slice(1)), "invalid_hash");
  assert.match(message, /"z" at position 1 /);
});

Deno.test("parseDigest rejects a 31-character hash naming the count it got", () => {
  const message = messageOf(() => parseDigest(MD5.slice(1)), "invalid_hash");
  assert.match(message, /expected 32 \(MD5\), 40 \(SHA-1\) or 64 \(SHA-256\) hex characters/);
  assert.match(message, /got 31$/);
});

Deno.test("parseDigest rejects an empty string with a count of 0", () => {
  assert.match(messageOf(() => parseDigest(""), "invalid_hash"), /got 0$/);
});

Deno.test("parseDigest uses the caller's error code", () => {
  assert.match(
    messageOf(() => parseDigest("abc", "invalid_thumbprint"), "invalid_thumbprint"),
    /^Invalid thumbprint /,
  );
});

Deno.test("parseThumbprint accepts colon-separated upper-case hex", () => {
  const colons = SHA1.toUpperCase().match(/../g)!.join(":");
  const digest = parseThumbprint(colons);
  assert.equal(digest.kind, "sha1");
  assert.equal(digest.hex, SHA1);
});

Deno.test("parseThumbprint accepts space-separated hex", () => {
  const spaced = SHA256.match(/../g)!.join(" ");
  assert.equal(parseThumbprint(spaced).hex, SHA256);
});

Deno.test("parseThumbprint accepts a plain SHA-1 or SHA-256", () => {
  assert.equal(parseThumbprint(SHA1).kind, "sha1");
  assert.equal(parseThumbprint(SHA256).kind, "sha256");
});

Deno.test("parseThumbprint rejects an MD5-length value with invalid_thumbprint", () => {
  const message = messageOf(() => parseThumbprint(MD5), "invalid_thumbprint");
  assert.match(message, /expected SHA-1 \(40\) or SHA-256 \(64\) hex characters, got 32/);
});

Deno.test("parseThumbprint reports a bad character with invalid_thumbprint", () => {
  messageOf(() => parseThumbprint("x" + SHA1.slice(1)), "invalid_thumbprint");
});

Deno.test("toHex writes lower-case, zero-padded hex", () => {
  assert.equal(toHex(Uint8Array.of(0, 1, 0xab, 0xff)), "0001abff");
  assert.equal(toHex(new Uint8Array(0)), "");
});

Deno.test("scanDigest lower-cases mixed-case hex and reads the prefix from either case", () => {
  const mixed = "AbCdEf01" + "0".repeat(24);
  const scanned = scanDigest(mixed);
  assert.equal(scanned.hex, mixed.toLowerCase());
  assert.equal(scanned.prefix, 0xabcdef01);
  assert.equal(scanDigest(mixed.toLowerCase()).prefix, 0xabcdef01);
});

Deno.test("scanDigest refuses a character beyond ASCII whose low bits read as a hex digit", () => {
  // U+0130 and U+0161: their low seven bits are "0" and "a".
  for (const odd of ["\u0130", "\u0161"]) {
    const text = "0".repeat(20) + odd + "0".repeat(11);
    assert.throws(() => scanDigest(text), /at position 21 is not a hex digit/);
  }
});
