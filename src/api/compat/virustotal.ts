/**
 * A VirusTotal API v3 subset, as vt-py (`vt.Client(apikey, host=...)`, `get_object`) and other v3
 * clients call it: `GET /api/v3/files/{hash}`, `/urls/{id}`, `/domains/{domain}` and
 * `/ip_addresses/{ip}` with the licence key in `x-apikey`, answered as
 * `{"data": {"id", "type", "links", "attributes"}}` and errors as
 * `{"error": {"code": "NotFoundError", "message"}}`. This node is one engine, not seventy: the
 * analysis fields are its own verdict, mapped as the README's "VirusTotal v3" section says.
 */
import type { Context, Hono } from "hono";
import { AppError, fromBase64, VERSION } from "../../core/mod.ts";
import { allowOnly, instrument, type InstrumentDeps } from "../../http/mod.ts";
import type { LookupResult, ObjectType, Verdict } from "../../reputation/mod.ts";
import { admit } from "./access.ts";
import { inForeignShape } from "./foreign_errors.ts";
import { type CompatLookupDeps, epochSeconds, lookupAs, whenReady } from "./lookup.ts";

const PREFIX = "/api/v3";

/** The collections served: path, VirusTotal's object type, pksn's object type, what the id is. */
const COLLECTIONS: readonly [path: string, vtType: string, type: ObjectType, what: string][] = [
  ["files", "file", "file", "File"],
  ["urls", "url", "url", "URL"],
  ["domains", "domain", "domain", "Domain"],
  ["ip_addresses", "ip_address", "ip", "IP address"],
];

/** VirusTotal's analysis category for each verdict (unknown never gets this far: 404). */
const CATEGORY: Readonly<Record<Verdict, string>> = {
  unknown: "undetected",
  clean: "harmless",
  malicious: "malicious",
  phishing: "malicious",
  adware: "suspicious",
  suspicious: "suspicious",
};

/** The community score VirusTotal calls `reputation`, stood in for by the verdict. */
const REPUTATION: Readonly<Record<Verdict, number>> = {
  unknown: 0,
  clean: 0,
  malicious: -100,
  phishing: -100,
  adware: -30,
  suspicious: -30,
};

/** VirusTotal's error codes for pksn's errors; vt-py raises `APIError(code, message)`. */
function vtError(err: AppError, status: number): unknown {
  let code: string;
  if (err.code === "license_missing") code = "AuthenticationRequiredError";
  else if (err.kind === "unauthorized") code = "WrongCredentialsError";
  else if (err.kind === "rate_limited") code = "QuotaExceededError";
  else if (err.kind === "forbidden") code = "ForbiddenError";
  else if (err.kind === "not_found") code = "NotFoundError";
  else if (err.kind === "invalid") code = "InvalidArgumentError";
  else if (status < 500) code = "BadRequestError";
  else code = "TransientError";
  return { error: { code, message: err.message } };
}

/** Adds the VirusTotal v3 routes to `app`. */
export function mountVirusTotalRoutes(app: Hono, deps: CompatLookupDeps & InstrumentDeps): void {
  for (const [collection, vtType, type, what] of COLLECTIONS) {
    const path = `${PREFIX}/${collection}/:id{.+}`;
    const route = `${PREFIX}/${collection}`;
    app.get(
      path,
      instrument(
        route,
        deps,
        inForeignShape(deps.log, vtError, function vtObject(c): Response | Promise<Response> {
          const id = c.req.param("id") ?? "";
          const admission = admit(c, deps.access, c.req.header("x-apikey") ?? null);
          const value = type === "url" ? urlOfId(id) : id;
          return whenReady(lookupAs(deps, admission, type, value), (result) => {
            if (result.verdict === "unknown") {
              throw new AppError("not_found", "not_found", `${what} "${id}" not found`);
            }
            return c.json({ data: objectOf(c, vtType, collection, id, result) });
          });
        }),
      ),
    );
    allowOnly(app, path, ["GET"], deps);
  }
}

/**
 * The URL a VirusTotal URL id stands for: the id is the URL in unpadded base64url (vt-py's
 * `url_id`). VirusTotal also accepts the SHA-256 of its canonical URL, which cannot be turned
 * back into a URL: such an id is answered with a message that says so.
 */
function urlOfId(id: string): string {
  if (/^[0-9a-f]{64}$/i.test(id)) {
    throw new AppError(
      "not_found",
      "url_id_unsupported",
      `URL "${id}" not found: this node finds URLs by the unpadded base64url of the URL ` +
        "(vt.url_id(url)), not by a SHA-256 id",
    );
  }
  let url: string | null = null;
  if (/^[A-Za-z0-9_-]+$/.test(id)) {
    try {
      const base64 = id.replaceAll("-", "+").replaceAll("_", "/");
      const bytes = fromBase64(base64 + "=".repeat((4 - base64.length % 4) % 4));
      url = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      url = null;
    }
  }
  if (url === null || url === "") {
    throw new AppError(
      "invalid",
      "invalid_url_id",
      `URL id "${id}" is not the unpadded base64url of a URL`,
    );
  }
  return url;
}

/** The VirusTotal object for a result. */
function objectOf(
  c: Context,
  vtType: string,
  collection: string,
  id: string,
  result: LookupResult,
): object {
  const category = CATEGORY[result.verdict];
  const stats: Record<string, number> = {
    malicious: 0,
    suspicious: 0,
    undetected: 0,
    harmless: 0,
    timeout: 0,
  };
  stats[category] = 1;
  const attributes: Record<string, unknown> = {
    last_analysis_stats: stats,
    last_analysis_results: {
      pksn: {
        category,
        engine_name: "pksn",
        engine_version: VERSION,
        method: "blacklist",
        result: result.verdict === "clean" ? "clean" : result.threat ?? result.verdict,
      },
    },
    reputation: REPUTATION[result.verdict],
    tags: result.categories ?? [],
    total_votes: { harmless: 0, malicious: 0 },
    pksn: result,
  };
  const last = epochSeconds(result.lastSeen) ?? epochSeconds(result.firstSeen);
  if (last !== undefined) attributes.last_analysis_date = last;
  const first = epochSeconds(result.firstSeen);
  if (first !== undefined) attributes.first_submission_date = first;
  if (result.threat !== undefined) {
    attributes.popular_threat_classification = { suggested_threat_label: result.threat };
  }
  if (vtType === "file") attributes[hashName(id)] = id.toLowerCase();
  if (vtType === "url") attributes.url = result.value;
  const self = new URL(`${PREFIX}/${collection}/${encodeURIComponent(id)}`, c.req.url).href;
  return { id, type: vtType, links: { self }, attributes };
}

function hashName(hash: string): string {
  return hash.length === 32 ? "md5" : hash.length === 40 ? "sha1" : "sha256";
}
