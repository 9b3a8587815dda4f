/**
 * `POST /v1/stats`: a batch of detection records, as a JSON array or NDJSON,
 * from a client whose participation is "with-statistics". The answer is 202
 * once the accepted records are on disk.
 */
import type { Context, Hono } from "hono";
import { AppError, InvalidInputError, quote } from "../core/mod.ts";
import type { LicenceAuthenticator } from "../licences/mod.ts";
import { parseIdempotencyKey, type StatsIngest } from "../stats/mod.ts";
import { allowOnly, instrument, type InstrumentDeps, readBytes } from "../http/mod.ts";

/** What the statistics route needs. */
export interface StatsRoutesDeps extends InstrumentDeps {
  auth: Pick<LicenceAuthenticator, "authenticateForStatistics">;
  ingest: StatsIngest;
  maxBatchRecords: number;
  maxBatchBytes: number;
}

const JSON_TYPE = "application/json";
const NDJSON_TYPES = new Set(["application/x-ndjson", "application/ndjson"]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Adds the statistics route to `app`. */
export function mountStatsRoutes(app: Hono, deps: StatsRoutesDeps): void {
  const { auth, ingest } = deps;
  app.post(
    "/v1/stats",
    instrument("/v1/stats", deps, async function receiveStats(c): Promise<Response> {
      // A licence always: statistics come only from clients that chose to send them.
      const licence = auth.authenticateForStatistics(c.req.raw.headers, "statistics");
      const header = c.req.header("idempotency-key");
      const key = header === undefined ? undefined : parseIdempotencyKey(header);
      const records = await readRecords(c, deps);
      const result = await ingest.accept(licence.id, records, key);
      const { replayed, ...body } = result;
      return c.json(body, 202, replayed ? { "Idempotent-Replayed": "true" } : undefined);
    }),
  );
  allowOnly(app, "/v1/stats", ["POST"], deps);
}

/**
 * The body's records. 415 for another content type, 413 `body_too_large` or
 * `too_many_records` past the limits, 400 when the body is not JSON/NDJSON.
 */
async function readRecords(
  c: Context,
  limits: { maxBatchRecords: number; maxBatchBytes: number },
): Promise<unknown[]> {
  const type = c.req.header("content-type");
  const mediaType = type?.split(";", 1)[0].trim().toLowerCase() ?? "";
  const ndjson = NDJSON_TYPES.has(mediaType);
  if (!ndjson && mediaType !== JSON_TYPE) {
    throw new AppError(
      "unsupported",
      "unsupported_media_type",
      `Unsupported content type ${quote(type ?? "(none)")}: expected "application/json" ` +
        '(an array of records) or "application/x-ndjson" (one record a line)',
    );
  }
  const text = decode(await readBytes(c, limits.maxBatchBytes));
  const records = ndjson ? parseNdjson(text) : parseArray(text);
  if (records.length > limits.maxBatchRecords) {
    throw new AppError(
      "too_large",
      "too_many_records",
      `Too many records: ${records.length}; at most ${limits.maxBatchRecords} per request`,
    );
  }
  return records;
}

function decode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InvalidInputError("invalid_json", "Request body is not valid UTF-8");
  }
}

function parseArray(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(
      "invalid_json",
      `Request body is not JSON: ${(err as Error).message}`,
    );
  }
  if (!Array.isArray(value)) {
    throw new InvalidInputError(
      "invalid_request",
      "Expected a JSON array of records, or NDJSON with Content-Type application/x-ndjson",
    );
  }
  return value;
}

function parseNdjson(text: string): unknown[] {
  const records: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    try {
      records.push(JSON.parse(line));
    } catch (err) {
      throw new InvalidInputError(
        "invalid_ndjson",
        `Request body line ${i + 1} is not JSON: ${(err as Error).message}`,
      );
    }
  }
  return records;
}
