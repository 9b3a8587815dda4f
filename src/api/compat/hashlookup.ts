/**
 * CIRCL hashlookup's API (hashlookup-server 1.2, as PyHashlookup and MISP's expansion module call
 * it): `GET /lookup/{md5,sha1,sha256}/HASH`, `POST /bulk/{md5,sha1,sha256}` with
 * `{"hashes": [...]}`, `GET /info`. hashlookup is a database of known files; here a hash is
 * "existing" when this node has a verdict for it, and the record says which (see the README).
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { AppError, VERSION } from "../../core/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, readBytes } from "../../http/mod.ts";
import type { LookupResult, ReputationIndex } from "../../reputation/mod.ts";
import { admit } from "./access.ts";
import { inForeignShape } from "./foreign_errors.ts";
import { type CompatLookupDeps, epochSeconds, lookupAllAs, lookupAs, whenReady } from "./lookup.ts";

/** The three hash kinds, as hashlookup names them in paths, record keys and messages. */
const KINDS = {
  md5: { hex: 32, key: "MD5", label: "MD5", inMessage: "MD5" },
  sha1: { hex: 40, key: "SHA-1", label: "SHA-1", inMessage: "SHA1" },
  sha256: { hex: 64, key: "SHA-256", label: "SHA-256", inMessage: "SHA-256" },
} as const;
type Kind = keyof typeof KINDS;

const BULK_SHAPE = "JSON format incorrect. An array of hashes in the key 'hashes' is expected.";
const KNOWN_MALICIOUS = new Set(["malicious", "phishing"]);

/** The body of `POST /bulk/...`: `{"hashes": [...]}`; other keys are ignored, as hashlookup does. */
export const bulkSchema = z.object({ hashes: z.array(z.string()) });

/** What the hashlookup routes need besides look-ups. */
export interface HashlookupDeps extends CompatLookupDeps, InstrumentDeps {
  index: () => ReputationIndex;
  /** The mirror's version, when this node follows a feed. */
  mirrorVersion: () => number | null;
}

/** hashlookup's error body: `{"message"}`, plus pksn's code for scripts that want it. */
function hashlookupError(err: AppError): unknown {
  return { message: err.message, code: err.code };
}

/** Adds the hashlookup routes to `app`. */
export function mountHashlookupRoutes(app: Hono, deps: HashlookupDeps): void {
  const route = (path: string, handler: (c: Context) => Response | Promise<Response>) =>
    instrument(path, deps, inForeignShape(deps.log, hashlookupError, handler));
  for (const kind of Object.keys(KINDS) as Kind[]) {
    const spec = KINDS[kind];
    const one = `/lookup/${kind}/:hash`;
    app.get(
      one,
      route(`/lookup/${kind}`, function hashlookupOne(c): Response | Promise<Response> {
        const hash = c.req.param("hash") ?? "";
        checkHash(kind, hash);
        const admission = admit(c, deps.access);
        return whenReady(lookupAs(deps, admission, "file", hash), (result) => {
          if (result.verdict === "unknown") {
            return c.json({ message: `Non existing ${spec.label}`, query: hash }, 404);
          }
          return c.json(recordOf(kind, hash, result));
        });
      }),
    );
    const bulk = `/bulk/${kind}`;
    app.post(
      bulk,
      route(bulk, async function hashlookupBulk(c): Promise<Response> {
        const admission = admit(c, deps.access);
        const hashes = bulkHashes(await readBulkJson(c, deps.maxBodyBytes), deps.maxBatchItems);
        for (const hash of hashes) checkHash(kind, hash);
        const results = await lookupAllAs(deps, admission, "file", hashes);
        const found = results.flatMap((result, i) =>
          result.verdict === "unknown" ? [] : [recordOf(kind, hashes[i], result)]
        );
        return c.json(found);
      }),
    );
    allowOnly(app, one, ["GET"], deps);
    allowOnly(app, bulk, ["POST"], deps);
  }
  app.get(
    "/info",
    route("/info", function hashlookupInfo(c): Response {
      admit(c, deps.access);
      const counts = deps.index().counts.file;
      return c.json({
        "pksn-version": VERSION,
        "mirror-version": deps.mirrorVersion(),
        "stat:hashlookup_total_keys": counts.mirror + counts.local,
      });
    }),
  );
  allowOnly(app, "/info", ["GET"], deps);
}

/** hashlookup's 400 for a hash of the wrong form. */
function checkHash(kind: Kind, hash: string): void {
  const spec = KINDS[kind];
  if (hash.length !== spec.hex || !/^[0-9a-fA-F]+$/.test(hash)) {
    throw new AppError(
      "invalid",
      "invalid_hash",
      `${spec.inMessage} value incorrect, expecting a ${spec.inMessage} value in hex format`,
    );
  }
}

/** The body as JSON whatever its Content-Type, as hashlookup reads it (Flask's `force=True`). */
async function readBulkJson(c: Context, limit: number): Promise<unknown> {
  const bytes = await readBytes(c, limit);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new AppError("invalid", "invalid_request", BULK_SHAPE);
  }
}

function bulkHashes(body: unknown, max: number): string[] {
  const parsed = bulkSchema.safeParse(body);
  if (!parsed.success) throw new AppError("invalid", "invalid_request", BULK_SHAPE);
  const hashes = parsed.data.hashes;
  if (hashes.length > max) {
    throw new AppError(
      "too_large",
      "too_many_items",
      `At most ${max} hashes a request (lookup.maxBatchItems); this one has ${hashes.length}`,
    );
  }
  return hashes;
}

/**
 * A record in hashlookup's shape. hashlookup's own fields hold what this node knows: the asked
 * hash (the others of the same file are not stored with it), `KnownMalicious` naming the source
 * of a malicious or phishing verdict, and `hashlookup:trust` by hashlookup's rule (50, less 20
 * when known malicious). pksn's verdict and dates are in `pksn:` fields.
 */
function recordOf(kind: Kind, hash: string, result: LookupResult): Record<string, unknown> {
  const record: Record<string, unknown> = { [KINDS[kind].key]: hash.toUpperCase() };
  if (result.source !== undefined) record.source = result.source;
  const malicious = KNOWN_MALICIOUS.has(result.verdict);
  if (malicious) record.KnownMalicious = result.source ?? "pksn";
  record["hashlookup:trust"] = malicious ? 30 : 50;
  record["pksn:verdict"] = result.verdict;
  if (result.threat !== undefined) record["pksn:threat"] = result.threat;
  if (result.categories !== undefined) record["pksn:categories"] = result.categories;
  const first = epochSeconds(result.firstSeen);
  const last = epochSeconds(result.lastSeen);
  if (first !== undefined) record["pksn:first_seen"] = first;
  if (last !== undefined) record["pksn:last_seen"] = last;
  record["pksn:via"] = result.via;
  if (result.stale) record["pksn:stale"] = true;
  return record;
}
