import assert from "node:assert/strict";
import {
  decodeKey,
  digestKey,
  fnv1a,
  ipKey,
  keyPrefix,
  textKey,
  TYPE_BYTE,
} from "../../src/reputation/keys.ts";
import { parseDigest } from "../../src/reputation/hash.ts";
import { maskTo, parseNetwork } from "../../src/reputation/ip.ts";

const encoder = new TextEncoder();

function networkKey(text: string): Uint8Array {
  const net = parseNetwork(text);
  return ipKey(maskTo(net.bytes, net.prefix), net.prefix);
}

Deno.test("fnv1a matches the published FNV-1a 32-bit vectors", () => {
  assert.equal(fnv1a(encoder.encode("")), 0x811c9dc5);
  assert.equal(fnv1a(encoder.encode("a")), 0xe40c292c);
  assert.equal(fnv1a(encoder.encode("foobar")), 0xbf9cf968);
});

Deno.test("fnv1a returns an unsigned 32-bit number", () => {
  for (const text of ["", "a", "foobar", "evil.example/"]) {
    const h = fnv1a(encoder.encode(text));
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `${text}: ${h}`);
  }
});

Deno.test("a file key is the type byte followed by the digest bytes", () => {
  const digest = parseDigest("44d88612fea8a8f36de82e1278abb02f");
  const key = digestKey("file", digest.bytes);
  assert.equal(key[0], TYPE_BYTE.file);
  assert.deepEqual(key.subarray(1), digest.bytes);
});

Deno.test("digest keys round-trip through decodeKey for files and certificates", () => {
  const sha1 = "3395856ce81f2b7382dee72602f798b642f14140";
  assert.deepEqual(decodeKey(digestKey("file", parseDigest(sha1).bytes)), {
    type: "file",
    value: sha1,
  });
  assert.deepEqual(decodeKey(digestKey("cert", parseDigest(sha1).bytes)), {
    type: "cert",
    value: sha1,
  });
});

Deno.test("text keys round-trip through decodeKey for URLs and domains", () => {
  assert.deepEqual(decodeKey(textKey("url", "evil.example/a/b?c=d")), {
    type: "url",
    value: "evil.example/a/b?c=d",
  });
  assert.deepEqual(decodeKey(textKey("domain", "xn--bcher-kva.example")), {
    type: "domain",
    value: "xn--bcher-kva.example",
  });
});

Deno.test("a text key carries the FNV-1a of its text in bytes 1..4", () => {
  const key = textKey("domain", "evil.example");
  assert.equal(key[0], TYPE_BYTE.domain);
  assert.equal(keyPrefix(key), fnv1a(encoder.encode("evil.example")));
  assert.deepEqual(key.subarray(5), encoder.encode("evil.example"));
});

Deno.test("IP keys round-trip: a host as an address, a network in CIDR form", () => {
  assert.deepEqual(decodeKey(networkKey("192.0.2.1")), { type: "ip", value: "192.0.2.1" });
  assert.deepEqual(decodeKey(networkKey("10.0.0.0/8")), { type: "ip", value: "10.0.0.0/8" });
  assert.deepEqual(decodeKey(networkKey("2001:db8::1")), { type: "ip", value: "2001:db8::1" });
  assert.deepEqual(decodeKey(networkKey("2001:db8::/32")), {
    type: "ip",
    value: "2001:db8::/32",
  });
  assert.deepEqual(decodeKey(networkKey("0.0.0.0/0")), { type: "ip", value: "0.0.0.0/0" });
});

Deno.test("IP keys are 10 bytes for IPv4 and 22 for IPv6, ending in the prefix length", () => {
  const v4 = networkKey("10.1.0.0/16");
  const v6 = networkKey("2001:db8::/48");
  assert.equal(v4.length, 10);
  assert.equal(v4[9], 16);
  assert.equal(v6.length, 22);
  assert.equal(v6[21], 48);
});

Deno.test("the same address with different prefix lengths gives different keys", () => {
  assert.notDeepEqual(networkKey("10.0.0.0/8"), networkKey("10.0.0.0/16"));
});

Deno.test("keyPrefix is bytes 1..4 as a big-endian unsigned number", () => {
  assert.equal(keyPrefix(Uint8Array.of(9, 0x12, 0x34, 0x56, 0x78, 0xff)), 0x12345678);
  assert.equal(keyPrefix(Uint8Array.of(1, 0xff, 0xff, 0xff, 0xff)), 0xffffffff);
  assert.equal(keyPrefix(Uint8Array.of(1, 0, 0, 0, 0)), 0);
  assert.equal(keyPrefix(Uint8Array.of(1, 0x80, 0, 0, 0)), 0x80000000);
});

Deno.test("keyPrefix of every key kind equals its bytes 1..4", () => {
  const keys = [
    digestKey(
      "file",
      parseDigest("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f").bytes,
    ),
    textKey("url", "evil.example/"),
    textKey("domain", "example"),
    networkKey("203.0.113.0/24"),
  ];
  for (const key of keys) {
    const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
    assert.equal(keyPrefix(key), view.getUint32(1));
  }
});

Deno.test("decodeKey rejects an unknown type byte", () => {
  assert.throws(() => decodeKey(Uint8Array.of(9, 0, 0, 0, 0)), /Unknown key type byte 9/);
});
