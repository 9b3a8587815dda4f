/**
 * The signed metadata of a feed: the root key set, the timestamp (the one file
 * that changes) and the manifest it points at. Zod schemas say what each file
 * may hold; the verify functions say whether it may be trusted.
 *
 * Trust runs root → timestamp → manifest → data files: the root lists the keys
 * of each role, the timestamp is signed by the timestamp role and names the
 * manifest by hash and length, the manifest names every data file by hash and
 * length. A middle tier that serves these files cannot alter any of them.
 */
import { z } from "zod";
import { canonicalBytes } from "./canonical_json.ts";
import { keyIdOf, sign, type SigningKey, verify } from "./signing.ts";
import { fromBase64 } from "../core/mod.ts";
import { SyncError } from "./sync_error.ts";

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits");
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

function isUtcTime(text: string): boolean {
  if (!UTC_TIME.test(text)) return false;
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19);
}

/**
 * An RFC 3339 time in UTC. `Date.parse` alone would take "1" (as 2001) and read
 * strings without a zone as local time; the round trip refuses "2026-02-30".
 */
const isoDate = z.string().refine(
  isUtcTime,
  'expected an RFC 3339 UTC time such as "2026-11-28T12:00:00Z"',
);
const version = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** A relative file name inside the feed tree: no `..`, no leading slash. */
const fileName = z.string().regex(
  /^(?:manifests|snapshots|deltas)\/[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/,
  "expected a file under manifests/, snapshots/ or deltas/",
);
const checksum = z.string().regex(/^[0-9a-f]{16}$/, "expected 16 lower-case hex digits");

const signatureSchema = z.strictObject({ keyid: hex64, sig: z.base64() });

const roleSchema = z.strictObject({
  keyids: z.array(hex64).min(1).max(16),
  threshold: z.number().int().min(1).max(16),
});

/** The root key set. */
export const rootSchema = z.strictObject({
  type: z.literal("root"),
  version,
  expires: isoDate,
  keys: z.record(hex64, z.strictObject({ keytype: z.literal("ed25519"), public: z.base64() })),
  roles: z.strictObject({ root: roleSchema, timestamp: roleSchema }),
});
export type Root = z.infer<typeof rootSchema>;

/** A file the manifest or timestamp names: where it is, its SHA-256 and its length. */
export const fileRefSchema = z.strictObject({
  name: fileName,
  sha256: hex64,
  length: z.number().int().min(1).max(64 * 1024 * 1024 * 1024),
});
export type FileRef = z.infer<typeof fileRefSchema>;

/** The timestamp: which manifest is current, until when. */
export const timestampSchema = z.strictObject({
  type: z.literal("timestamp"),
  version,
  expires: isoDate,
  manifest: fileRefSchema,
  /** Downstream nodes should not poll more often than this. */
  minPollSeconds: z.number().int().min(0).max(86_400),
});
export type Timestamp = z.infer<typeof timestampSchema>;

const countsSchema = z.strictObject({
  file: z.number().int().min(0),
  url: z.number().int().min(0),
  domain: z.number().int().min(0),
  ip: z.number().int().min(0),
  cert: z.number().int().min(0),
});

/** A full snapshot of the state at `version`. */
export const snapshotRefSchema = fileRefSchema.extend({
  version,
  records: z.number().int().min(0),
  checksum,
});
/** The changes from `from` to `to`. */
export const deltaRefSchema = fileRefSchema.extend({
  from: version,
  to: version,
  records: z.number().int().min(0),
  checksum,
  /** When the delta was published; old ones are pruned after the retention period. */
  created: isoDate,
}).refine((d) => d.to === d.from + 1, "a delta leads from one version to the next");
export type SnapshotRef = z.infer<typeof snapshotRefSchema>;
export type DeltaRef = z.infer<typeof deltaRefSchema>;

/** What version N of the feed is made of. */
export const manifestSchema = z.strictObject({
  type: z.literal("manifest"),
  version,
  created: isoDate,
  /** Keys per object type after this version. */
  counts: countsSchema,
  /** State checksum after this version (see `checksum.ts`). */
  checksum,
  /** The latest full snapshot, at this version or an earlier one. */
  snapshot: snapshotRefSchema,
  /** Deltas still kept, oldest first; they lead from the snapshot (or older) up to `version`. */
  deltas: z.array(deltaRefSchema).max(10_000),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** A signed document: `signed` plus Ed25519 signatures over its canonical JSON. */
export interface Envelope<T> {
  signed: T;
  signatures: { keyid: string; sig: string }[];
}

const envelopeSchema = z.strictObject({
  signed: z.unknown(),
  signatures: z.array(signatureSchema).max(32),
});

/** Checks a value against `schema`, naming `label` and the field in the error. */
export function checkSchema<T>(value: unknown, schema: z.ZodType<T>, label: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.length ? ` at "${issue.path.join(".")}"` : "";
    throw new SyncError("invalid_metadata", `${label} is malformed${at}: ${issue.message}`);
  }
  return parsed.data;
}

/** Parses JSON text into a typed object, naming `label` in every error. */
export function parseJson<T>(text: string, schema: z.ZodType<T>, label: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SyncError("invalid_metadata", `${label} is not JSON: ${(err as Error).message}`);
  }
  return checkSchema(raw, schema, label);
}

/** Parses a signed envelope whose `signed` part must match `schema`. */
export function parseEnvelope<T>(
  text: string,
  schema: z.ZodType<T>,
  label: string,
): Envelope<T> {
  const outer = parseJson(text, envelopeSchema, label);
  const inner = schema.safeParse(outer.signed);
  if (!inner.success) {
    const issue = inner.error.issues[0];
    const at = ` at "${["signed", ...issue.path].join(".")}"`;
    throw new SyncError("invalid_metadata", `${label} is malformed${at}: ${issue.message}`);
  }
  return { signed: inner.data, signatures: outer.signatures };
}

/** Signs `signed` with every key given. */
export async function signEnvelope<T>(signed: T, keys: SigningKey[]): Promise<Envelope<T>> {
  const bytes = canonicalBytes(signed);
  const signatures = [];
  for (const key of keys) signatures.push({ keyid: key.keyid, sig: await sign(key, bytes) });
  return { signed, signatures };
}

/**
 * Throws unless at least `role.threshold` distinct keys of `role`, as listed in
 * `root`, signed the envelope.
 */
export async function verifyRole(
  envelope: Envelope<unknown>,
  root: Root,
  roleName: "root" | "timestamp",
  label: string,
): Promise<void> {
  const role = root.roles[roleName];
  const bytes = canonicalBytes(envelope.signed);
  const good = new Set<string>();
  for (const { keyid, sig } of envelope.signatures) {
    if (!role.keyids.includes(keyid) || good.has(keyid)) continue;
    const key = root.keys[keyid];
    if (key === undefined) continue;
    const publicKey = fromBase64(key.public);
    if (await keyIdOf(publicKey) !== keyid) continue;
    if (await verify(publicKey, sig, bytes)) good.add(keyid);
  }
  if (good.size < role.threshold) {
    throw new SyncError(
      "bad_signature",
      `${label} has ${good.size} valid ${roleName} signature(s) of root version ${root.version}; ` +
        `${role.threshold} needed`,
    );
  }
}

/**
 * Verifies the next root version against the trusted one: it must be exactly
 * one version later and signed by the old root role and by its own.
 */
export async function verifyNextRoot(
  trusted: Root,
  next: Envelope<Root>,
  label: string,
): Promise<Root> {
  if (next.signed.version !== trusted.version + 1) {
    throw new SyncError(
      "bad_root_version",
      `${label} has version ${next.signed.version}; expected ${trusted.version + 1}`,
    );
  }
  await verifyRole(next, trusted, "root", label);
  await verifyRole(next, next.signed, "root", label);
  return next.signed;
}

/** Whether an RFC 3339 time lies at or before `nowMs`. */
export function isExpired(expires: string, nowMs: number): boolean {
  return Date.parse(expires) <= nowMs;
}
