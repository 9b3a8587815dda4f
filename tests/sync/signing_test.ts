import assert from "node:assert/strict";
import { InvalidInputError } from "../../src/core/errors.ts";
import {
  generateKeyFile,
  type KeyFile,
  keyIdOf,
  parseKeyFile,
  sha256Hex,
  sign,
  verify,
} from "../../src/feed/signing.ts";
import { fromBase64, toBase64 } from "../../src/core/encoding.ts";

const encoder = new TextEncoder();

/** Asserts that `promise` rejects with an invalid_key_file error whose message matches. */
async function rejectsKeyFile(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError, String(err));
    assert.equal(err.code, "invalid_key_file");
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("sha256Hex gives lower-case hex of the published SHA-256 vectors", async () => {
  assert.equal(
    await sha256Hex(new Uint8Array(0)),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    await sha256Hex(encoder.encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("base64 round-trips bytes longer than one conversion chunk", () => {
  const bytes = Uint8Array.from({ length: 0x8000 * 2 + 5 }, (_, i) => (i * 31) & 0xff);
  assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
  assert.equal(toBase64(Uint8Array.of(0xfb, 0xff)), "+/8=");
});

Deno.test("fromBase64 rejects text that is not base64 with invalid_base64", () => {
  assert.throws(() => fromBase64("!!not base64!!"), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.equal(err.code, "invalid_base64");
    assert.match(err.message, /^Not base64: "!!not base64!!"$/);
    return true;
  });
});

Deno.test("a generated key file holds a 32-byte public key and its SHA-256 as keyid", async () => {
  const file = await generateKeyFile();
  assert.equal(file.type, "ed25519-private");
  const publicKey = fromBase64(file.public);
  assert.equal(publicKey.length, 32);
  assert.equal(file.keyid, await sha256Hex(publicKey));
  assert.equal(await keyIdOf(publicKey), file.keyid);
  assert.match(file.keyid, /^[0-9a-f]{64}$/);
});

Deno.test("a key file round-trips through JSON and its key signs what its public key verifies", async () => {
  const file = await generateKeyFile();
  const key = await parseKeyFile(JSON.stringify(file), "feed.key");
  assert.equal(key.keyid, file.keyid);
  assert.deepEqual(key.publicKey, fromBase64(file.public));
  const data = encoder.encode('{"type":"timestamp","version":1}');
  const sig = await sign(key, data);
  assert.equal(fromBase64(sig).length, 64);
  assert.equal(await verify(key.publicKey, sig, data), true);
});

Deno.test("two key files get different key ids", async () => {
  const [a, b] = [await generateKeyFile(), await generateKeyFile()];
  assert.notEqual(a.keyid, b.keyid);
});

Deno.test("parseKeyFile refuses a keyid that does not match the public key", async () => {
  const file = await generateKeyFile();
  const other = await generateKeyFile();
  const text = JSON.stringify({ ...file, keyid: other.keyid });
  await rejectsKeyFile(parseKeyFile(text, "feed.key"), /^feed\.key: keyid does not match/);
});

Deno.test("parseKeyFile refuses text that is not JSON, naming the file", async () => {
  await rejectsKeyFile(
    parseKeyFile("{not json", "/etc/pksn/feed.key"),
    /^\/etc\/pksn\/feed\.key is not JSON: /,
  );
  await rejectsKeyFile(parseKeyFile("", "feed.key"), /^feed\.key is not JSON: /);
});

Deno.test("parseKeyFile refuses JSON of the wrong shape and says which tool makes key files", async () => {
  const file = await generateKeyFile();
  const shapes: unknown[] = [
    [],
    null,
    { ...file, type: "rsa-private" },
    { ...file, extra: 1 },
    { type: file.type, keyid: file.keyid, public: file.public },
    { ...file, keyid: file.keyid.toUpperCase() },
    { ...file, public: "not base64!" },
  ];
  for (const shape of shapes) {
    await rejectsKeyFile(
      parseKeyFile(JSON.stringify(shape), "feed.key"),
      /^feed\.key is not a pksn Ed25519 key file \(made by "pksn feed keygen"\)$/,
    );
  }
});

Deno.test("parseKeyFile refuses a private key that is not PKCS#8 Ed25519", async () => {
  const file = await generateKeyFile();
  const text = JSON.stringify({ ...file, private: toBase64(new Uint8Array(48)) });
  await rejectsKeyFile(parseKeyFile(text, "feed.key"), /^feed\.key: cannot read the private key: /);
});

Deno.test("parseKeyFile refuses a private key that belongs to another public key", async () => {
  // A file spliced from two pairs would otherwise sign with a key that no client trusts.
  const file: KeyFile = await generateKeyFile();
  const other = await generateKeyFile();
  const text = JSON.stringify({ ...file, private: other.private });
  await rejectsKeyFile(
    parseKeyFile(text, "feed.key"),
    /^feed\.key: the private key does not belong to the public key$/,
  );
  // The other pair's public key and keyid with this private key: refused the same way.
  const swapped = JSON.stringify({ ...other, private: file.private });
  await rejectsKeyFile(
    parseKeyFile(swapped, "feed.key"),
    /^feed\.key: the private key does not belong to the public key$/,
  );
  // Each whole file is still accepted.
  assert.equal((await parseKeyFile(JSON.stringify(file), "feed.key")).keyid, file.keyid);
});

Deno.test("verify rejects tampered data", async () => {
  const key = await parseKeyFile(JSON.stringify(await generateKeyFile()), "k");
  const data = encoder.encode("version 7");
  const sig = await sign(key, data);
  assert.equal(await verify(key.publicKey, sig, encoder.encode("version 8")), false);
  assert.equal(await verify(key.publicKey, sig, data.subarray(1)), false);
});

Deno.test("verify rejects a tampered signature", async () => {
  const key = await parseKeyFile(JSON.stringify(await generateKeyFile()), "k");
  const data = encoder.encode("version 7");
  const raw = fromBase64(await sign(key, data));
  for (const at of [0, 31, 32, 63]) {
    const bad = raw.slice();
    bad[at] ^= 1;
    assert.equal(await verify(key.publicKey, toBase64(bad), data), false, `byte ${at}`);
  }
});

Deno.test("verify rejects another key's signature", async () => {
  const a = await parseKeyFile(JSON.stringify(await generateKeyFile()), "a");
  const b = await parseKeyFile(JSON.stringify(await generateKeyFile()), "b");
  const data = encoder.encode("hello");
  assert.equal(await verify(b.publicKey, await sign(a, data), data), false);
});

Deno.test("verify returns false, never throws, for a malformed key or signature", async () => {
  const key = await parseKeyFile(JSON.stringify(await generateKeyFile()), "k");
  const data = encoder.encode("hello");
  const sig = await sign(key, data);
  assert.equal(await verify(key.publicKey.subarray(0, 31), sig, data), false);
  assert.equal(await verify(new Uint8Array(0), sig, data), false);
  assert.equal(await verify(key.publicKey, "!!!", data), false);
  assert.equal(await verify(key.publicKey, "", data), false);
  assert.equal(await verify(key.publicKey, toBase64(new Uint8Array(63)), data), false);
});
