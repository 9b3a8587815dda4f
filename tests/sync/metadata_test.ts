import assert from "node:assert/strict";
import {
  type Envelope,
  isExpired,
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  type Root,
  rootSchema,
  signEnvelope,
  type Timestamp,
  timestampSchema,
  verifyNextRoot,
  verifyRole,
} from "../../src/feed/metadata.ts";
import type { SigningKey } from "../../src/feed/signing.ts";
import { toBase64 } from "../../src/core/encoding.ts";
import { SyncError } from "../../src/feed/sync_error.ts";
import { newKey } from "./_publisher.ts";
import { statusOf } from "../../src/http/mod.ts";

const [ROOT_A, ROOT_B, ROOT_C, TS_A, TS_B] = await Promise.all(
  Array.from({ length: 5 }, () => newKey()),
);

const HASH = "ab".repeat(32);

/** A root of `version` listing exactly the keys of its two roles. */
function makeRoot(
  version: number,
  roles: { root: SigningKey[]; rootThreshold?: number; ts: SigningKey[]; tsThreshold?: number },
): Root {
  const keys: Root["keys"] = {};
  for (const key of [...roles.root, ...roles.ts]) {
    keys[key.keyid] = { keytype: "ed25519", public: toBase64(key.publicKey) };
  }
  return {
    type: "root",
    version,
    expires: "2027-11-28T00:00:00Z",
    keys,
    roles: {
      root: { keyids: roles.root.map((k) => k.keyid), threshold: roles.rootThreshold ?? 1 },
      timestamp: { keyids: roles.ts.map((k) => k.keyid), threshold: roles.tsThreshold ?? 1 },
    },
  };
}

const TIMESTAMP: Timestamp = {
  type: "timestamp",
  version: 7,
  expires: "2026-12-05T00:00:00Z",
  manifest: { name: `manifests/7.${HASH}.json`, sha256: HASH, length: 1234 },
  minPollSeconds: 300,
};

const MANIFEST: Manifest = {
  type: "manifest",
  version: 7,
  created: "2026-11-28T12:00:00Z",
  counts: { file: 3, url: 1, domain: 1, ip: 2, cert: 0 },
  checksum: "0123456789abcdef",
  snapshot: {
    name: `snapshots/5.${HASH}.bin`,
    sha256: HASH,
    length: 900,
    version: 5,
    records: 6,
    checksum: "00000000ffffffff",
  },
  deltas: [
    {
      name: `deltas/5-6.${HASH}.bin`,
      sha256: HASH,
      length: 40,
      from: 5,
      to: 6,
      records: 1,
      checksum: "1111111122222222",
      created: "2026-11-27T12:00:00Z",
    },
    {
      name: `deltas/6-7.${HASH}.bin`,
      sha256: HASH,
      length: 41,
      from: 6,
      to: 7,
      records: 1,
      checksum: "0123456789abcdef",
      created: "2026-11-28T12:00:00Z",
    },
  ],
};

/** Asserts that `promise` rejects with a SyncError of `code` whose message matches. */
async function rejectsSync(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SyncError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

/** Asserts that `fn` throws an invalid_metadata SyncError whose message matches. */
function throwsMetadata(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SyncError, String(err));
    assert.equal(err.code, "invalid_metadata");
    assert.equal(statusOf(err), 502);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("a timestamp signed by its one timestamp key verifies", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  await verifyRole(await signEnvelope(TIMESTAMP, [TS_A]), root, "timestamp", "timestamp.json");
});

Deno.test("threshold 1 of 2: a signature by either key is enough", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A, TS_B], tsThreshold: 1 });
  await verifyRole(await signEnvelope(TIMESTAMP, [TS_A]), root, "timestamp", "t");
  await verifyRole(await signEnvelope(TIMESTAMP, [TS_B]), root, "timestamp", "t");
});

Deno.test("threshold 2 of 2: one signature is refused with bad_signature", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A, TS_B], tsThreshold: 2 });
  await rejectsSync(
    verifyRole(await signEnvelope(TIMESTAMP, [TS_B]), root, "timestamp", "timestamp.json"),
    "bad_signature",
    /^timestamp\.json has 1 valid timestamp signature\(s\) of root version 1; 2 needed$/,
  );
});

Deno.test("threshold 2 of 2: both signatures, in either order, verify", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A, TS_B], tsThreshold: 2 });
  await verifyRole(await signEnvelope(TIMESTAMP, [TS_A, TS_B]), root, "timestamp", "t");
  await verifyRole(await signEnvelope(TIMESTAMP, [TS_B, TS_A]), root, "timestamp", "t");
});

Deno.test("two signatures by the same key count once", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A, TS_B], tsThreshold: 2 });
  const envelope = await signEnvelope(TIMESTAMP, [TS_A, TS_A]);
  assert.equal(envelope.signatures.length, 2);
  await rejectsSync(verifyRole(envelope, root, "timestamp", "t"), "bad_signature", /has 1 valid/);
});

Deno.test("a bad signature does not hide a good one by the same key", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const good = await signEnvelope(TIMESTAMP, [TS_A]);
  const bad = await signEnvelope({ ...TIMESTAMP, version: 8 }, [TS_A]);
  const envelope = { signed: TIMESTAMP, signatures: [...bad.signatures, ...good.signatures] };
  await verifyRole(envelope, root, "timestamp", "t");
});

Deno.test("a signature by a key outside the role is ignored", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  // ROOT_A is listed in the root's keys, but only for the root role.
  await rejectsSync(
    verifyRole(await signEnvelope(TIMESTAMP, [ROOT_A]), root, "timestamp", "t"),
    "bad_signature",
    /has 0 valid timestamp signature/,
  );
  // TS_B is not listed at all.
  await rejectsSync(
    verifyRole(await signEnvelope(TIMESTAMP, [TS_B]), root, "timestamp", "t"),
    "bad_signature",
    /has 0 valid/,
  );
});

Deno.test("keys outside the role do not add up to its threshold", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A, TS_B], tsThreshold: 2 });
  const envelope = await signEnvelope(TIMESTAMP, [TS_A, ROOT_A, ROOT_B]);
  await rejectsSync(verifyRole(envelope, root, "timestamp", "t"), "bad_signature", /has 1 valid/);
});

Deno.test("a role key whose listed public key does not hash to its keyid is ignored", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  // The root claims TS_A's key id but lists TS_B's public key under it.
  root.keys[TS_A.keyid] = { keytype: "ed25519", public: toBase64(TS_B.publicKey) };
  const forged = {
    signed: TIMESTAMP,
    signatures: [{ ...(await signEnvelope(TIMESTAMP, [TS_B])).signatures[0], keyid: TS_A.keyid }],
  };
  await rejectsSync(verifyRole(forged, root, "timestamp", "t"), "bad_signature", /has 0 valid/);
});

Deno.test("a signed part changed after signing fails verification", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const envelope = await signEnvelope(TIMESTAMP, [TS_A]);
  const tampered = { ...envelope, signed: { ...TIMESTAMP, minPollSeconds: 0 } };
  await rejectsSync(verifyRole(tampered, root, "timestamp", "t"), "bad_signature", /has 0 valid/);
});

Deno.test("verification does not depend on the JSON text's key order or spacing", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const envelope = await signEnvelope(TIMESTAMP, [TS_A]);
  const reordered = {
    signatures: envelope.signatures,
    signed: {
      minPollSeconds: 300,
      manifest: { length: 1234, sha256: HASH, name: TIMESTAMP.manifest.name },
      expires: TIMESTAMP.expires,
      version: 7,
      type: "timestamp",
    },
  };
  const parsed = parseEnvelope(JSON.stringify(reordered, null, 2), timestampSchema, "t");
  await verifyRole(parsed, root, "timestamp", "t");
});

Deno.test("an edited field in the served JSON text fails verification", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const text = JSON.stringify(await signEnvelope(TIMESTAMP, [TS_A]));
  const edited = text.replace('"version":7', '"version":70');
  assert.notEqual(edited, text);
  const parsed = parseEnvelope(edited, timestampSchema, "timestamp.json");
  await rejectsSync(
    verifyRole(parsed, root, "timestamp", "timestamp.json"),
    "bad_signature",
    /has 0/,
  );
});

Deno.test("the root role and the timestamp role are checked separately", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const envelope = await signEnvelope(TIMESTAMP, [TS_A]);
  await rejectsSync(
    verifyRole(envelope, root, "root", "t"),
    "bad_signature",
    /has 0 valid root signature\(s\) of root version 1; 1 needed/,
  );
});

Deno.test("verifyNextRoot accepts version N+1 signed by the old root role and its own", async () => {
  const v1 = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const v2 = makeRoot(2, { root: [ROOT_B], ts: [TS_B] });
  const next = await signEnvelope(v2, [ROOT_A, ROOT_B]);
  assert.deepEqual(await verifyNextRoot(v1, next, "root.2.json"), v2);
});

Deno.test("verifyNextRoot accepts a root that keeps its keys and only moves the version on", async () => {
  const v1 = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const v2 = makeRoot(2, { root: [ROOT_A], ts: [TS_B] });
  assert.deepEqual(await verifyNextRoot(v1, await signEnvelope(v2, [ROOT_A]), "root.2.json"), v2);
});

Deno.test("verifyNextRoot refuses a version that is not exactly one more", async () => {
  const v1 = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  for (const version of [1, 3, 100]) {
    const next = await signEnvelope(makeRoot(version, { root: [ROOT_A], ts: [TS_A] }), [ROOT_A]);
    await rejectsSync(
      verifyNextRoot(v1, next, `root.${version}.json`),
      "bad_root_version",
      new RegExp(`^root\\.${version}\\.json has version ${version}; expected 2$`),
    );
  }
});

Deno.test("verifyNextRoot refuses a new root signed only by its own new keys", async () => {
  const v1 = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const v2 = makeRoot(2, { root: [ROOT_B], ts: [TS_A] });
  await rejectsSync(
    verifyNextRoot(v1, await signEnvelope(v2, [ROOT_B]), "root.2.json"),
    "bad_signature",
    /^root\.2\.json has 0 valid root signature\(s\) of root version 1; 1 needed$/,
  );
});

Deno.test("verifyNextRoot refuses a new root signed only by the old keys it drops", async () => {
  const v1 = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const v2 = makeRoot(2, { root: [ROOT_B], ts: [TS_A] });
  await rejectsSync(
    verifyNextRoot(v1, await signEnvelope(v2, [ROOT_A]), "root.2.json"),
    "bad_signature",
    /^root\.2\.json has 0 valid root signature\(s\) of root version 2; 1 needed$/,
  );
});

Deno.test("verifyNextRoot applies each root's own threshold", async () => {
  const v1 = makeRoot(1, { root: [ROOT_A, ROOT_B], rootThreshold: 2, ts: [TS_A] });
  const v2 = makeRoot(2, { root: [ROOT_B, ROOT_C], rootThreshold: 2, ts: [TS_A] });
  await verifyNextRoot(v1, await signEnvelope(v2, [ROOT_A, ROOT_B, ROOT_C]), "r");
  await rejectsSync(
    verifyNextRoot(v1, await signEnvelope(v2, [ROOT_B, ROOT_C]), "r"),
    "bad_signature",
    /has 1 valid root signature\(s\) of root version 1; 2 needed/,
  );
  await rejectsSync(
    verifyNextRoot(v1, await signEnvelope(v2, [ROOT_A, ROOT_B]), "r"),
    "bad_signature",
    /has 1 valid root signature\(s\) of root version 2; 2 needed/,
  );
});

Deno.test("a root, timestamp and manifest round-trip through parseEnvelope", async () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  for (
    const [value, schema] of [[root, rootSchema], [TIMESTAMP, timestampSchema], [
      MANIFEST,
      manifestSchema,
    ]] as const
  ) {
    const envelope: Envelope<unknown> = await signEnvelope(value, [ROOT_A]);
    const parsed = parseEnvelope(JSON.stringify(envelope), schema as typeof rootSchema, "f");
    assert.deepEqual(parsed, envelope);
  }
});

Deno.test("parseEnvelope names the file when the text is not JSON", () => {
  throwsMetadata(
    () => parseEnvelope("{", timestampSchema, "timestamp.json"),
    /^timestamp\.json is not JSON: /,
  );
});

Deno.test("parseEnvelope names a missing field inside signed", () => {
  const { version: _, ...rest } = TIMESTAMP;
  throwsMetadata(
    () => parseEnvelope(JSON.stringify({ signed: rest, signatures: [] }), timestampSchema, "ts"),
    /^ts is malformed at "signed\.version": /,
  );
});

Deno.test("parseEnvelope names a nested field with a bad value", () => {
  const signed = { ...TIMESTAMP, manifest: { ...TIMESTAMP.manifest, sha256: HASH.toUpperCase() } };
  throwsMetadata(
    () => parseEnvelope(JSON.stringify({ signed, signatures: [] }), timestampSchema, "ts"),
    /^ts is malformed at "signed\.manifest\.sha256": expected 64 lower-case hex digits$/,
  );
});

Deno.test("parseEnvelope names a bad signature entry by its index", () => {
  const signatures = [{ keyid: HASH, sig: "AAAA" }, { keyid: "nope", sig: "AAAA" }];
  throwsMetadata(
    () => parseEnvelope(JSON.stringify({ signed: TIMESTAMP, signatures }), timestampSchema, "ts"),
    /^ts is malformed at "signatures\.1\.keyid": expected 64 lower-case hex digits$/,
  );
});

Deno.test("parseEnvelope refuses unknown fields in the envelope and in signed", () => {
  throwsMetadata(
    () =>
      parseEnvelope(
        JSON.stringify({ signed: TIMESTAMP, signatures: [], extra: 1 }),
        timestampSchema,
        "ts",
      ),
    /^ts is malformed: .*"extra"/,
  );
  throwsMetadata(
    () =>
      parseEnvelope(
        JSON.stringify({ signed: { ...TIMESTAMP, extra: 1 }, signatures: [] }),
        timestampSchema,
        "ts",
      ),
    /^ts is malformed at "signed": .*"extra"/,
  );
});

Deno.test("parseEnvelope names a missing signed part", () => {
  throwsMetadata(
    () => parseEnvelope('{"signatures":[]}', timestampSchema, "ts"),
    /^ts is malformed at "signed": /,
  );
});

Deno.test("parseEnvelope names signed when it is not an object", () => {
  for (const signed of ["5", "null", "[]", '"timestamp"', "true"]) {
    throwsMetadata(
      () => parseEnvelope(`{"signed":${signed},"signatures":[]}`, timestampSchema, "ts"),
      /^ts is malformed at "signed": /,
    );
  }
});

Deno.test("parseEnvelope refuses a signed part of another type", () => {
  throwsMetadata(
    () =>
      parseEnvelope(JSON.stringify({ signed: MANIFEST, signatures: [] }), timestampSchema, "ts"),
    /^ts is malformed at "signed\.type": /,
  );
});

Deno.test("file names must stay inside manifests/, snapshots/ or deltas/", () => {
  for (const name of ["../root.json", "/etc/passwd", "manifests/../x", "snapshots/a/b", "x.bin"]) {
    const signed = { ...TIMESTAMP, manifest: { ...TIMESTAMP.manifest, name } };
    throwsMetadata(
      () => parseEnvelope(JSON.stringify({ signed, signatures: [] }), timestampSchema, "ts"),
      /at "signed\.manifest\.name": expected a file under manifests\/, snapshots\/ or deltas\/$/,
    );
  }
});

Deno.test("a manifest's delta must lead from one version to the next", () => {
  const deltas = [{ ...MANIFEST.deltas[0], from: 5, to: 7 }];
  throwsMetadata(
    () => parseJson(JSON.stringify({ ...MANIFEST, deltas }), manifestSchema, "manifest"),
    /^manifest is malformed at "deltas\.0": a delta leads from one version to the next$/,
  );
});

Deno.test("a checksum must be 16 lower-case hex digits", () => {
  throwsMetadata(
    () =>
      parseJson(JSON.stringify({ ...MANIFEST, checksum: "ABCDEF0123456789" }), manifestSchema, "m"),
    /^m is malformed at "checksum": expected 16 lower-case hex digits$/,
  );
});

Deno.test("versions are whole numbers from 1", () => {
  for (const version of [0, -1, 1.5, "7"]) {
    throwsMetadata(
      () => parseJson(JSON.stringify({ ...TIMESTAMP, version }), timestampSchema, "ts"),
      /^ts is malformed at "version": /,
    );
  }
});

Deno.test("a root's role threshold and key list are bounded", () => {
  const root = makeRoot(1, { root: [ROOT_A], ts: [TS_A] });
  const zero = {
    ...root,
    roles: { ...root.roles, root: { keyids: [ROOT_A.keyid], threshold: 0 } },
  };
  throwsMetadata(
    () => parseJson(JSON.stringify(zero), rootSchema, "root.json"),
    /^root\.json is malformed at "roles\.root\.threshold": /,
  );
  const empty = { ...root, roles: { ...root.roles, timestamp: { keyids: [], threshold: 1 } } };
  throwsMetadata(
    () => parseJson(JSON.stringify(empty), rootSchema, "root.json"),
    /^root\.json is malformed at "roles\.timestamp\.keyids": /,
  );
});

Deno.test("isExpired is true from the expiry instant on", () => {
  const expires = "2026-12-05T00:00:00Z";
  const at = Date.parse(expires);
  assert.equal(isExpired(expires, at - 1), false);
  assert.equal(isExpired(expires, at), true);
  assert.equal(isExpired(expires, at + 1), true);
});

Deno.test("times must be RFC 3339 in UTC, such as 2026-11-28T12:00:00Z", () => {
  for (
    const expires of [
      "2026-12-05T00:00:00Z",
      "2026-12-05T00:00:00.5Z",
      "2026-12-05T00:00:00.123456789Z",
    ]
  ) {
    assert.equal(
      parseJson(JSON.stringify({ ...TIMESTAMP, expires }), timestampSchema, "ts").expires,
      expires,
    );
  }
  const refused = [
    "1", // Date.parse reads it as 2001
    "2026-12-05", // a date without a time
    "2026-12-05 00:00:00Z", // no T
    "2026-12-05T00:00:00", // no zone: Date.parse would read local time
    "2026-12-05T01:00:00+01:00", // an offset other than Z
    "2026-12-05t00:00:00z",
    "Sat, 05 Dec 2026 00:00:00 GMT",
    "2026-02-30T00:00:00Z", // Date.parse rolls it over to March 2
    "2026-12-05T24:00:00Z",
    "2026-13-01T00:00:00Z",
    "+010000-01-01T00:00:00.000Z",
  ];
  for (const expires of refused) {
    throwsMetadata(
      () => parseJson(JSON.stringify({ ...TIMESTAMP, expires }), timestampSchema, "ts"),
      /^ts is malformed at "expires": expected an RFC 3339 UTC time such as "2026-11-28T12:00:00Z"$/,
    );
  }
});

Deno.test("a manifest's and a delta's created time follow the same rule", () => {
  throwsMetadata(
    () => parseJson(JSON.stringify({ ...MANIFEST, created: "2026-11-28" }), manifestSchema, "m"),
    /^m is malformed at "created": expected an RFC 3339 UTC time/,
  );
  const deltas = [{ ...MANIFEST.deltas[0], created: "1" }, MANIFEST.deltas[1]];
  throwsMetadata(
    () => parseJson(JSON.stringify({ ...MANIFEST, deltas }), manifestSchema, "m"),
    /^m is malformed at "deltas\.0\.created": expected an RFC 3339 UTC time/,
  );
});
