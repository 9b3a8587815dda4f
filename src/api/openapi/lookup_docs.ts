/** The look-up routes as the OpenAPI document describes them: one object, and a batch. */
import { z } from "zod";
import {
  errorAnswer,
  errorBodySchema,
  lookupResultSchema,
  type RouteDoc,
  type RouteResponse,
} from "../../http/mod.ts";
import { lookupBatchSchema } from "../batch.ts";

const TAG = "Look-ups";
const LICENCE_NOTE = "Needs a licence key when `auth.required` is on (the default), and the " +
  "client's acceptance of the current KSN Statement.";

/** The refusals every look-up may answer. */
const REFUSALS: Readonly<Record<number, RouteResponse>> = {
  401: errorAnswer(
    "No key, or an unknown, expired, revoked or not yet valid one: `license_missing`, " +
      "`license_unknown`, `license_expired`, `license_revoked`, `license_not_yet_valid`",
  ),
  403: errorAnswer(
    "The licence has chosen no participation mode, or not the current statement: " +
      "`participation_required`",
  ),
  429: errorAnswer("Over the licence's quota of look-ups a minute: `rate_limited`"),
};

const RESULT: RouteResponse = {
  description: "The result; an object nothing knows has verdict `unknown`",
  schema: lookupResultSchema,
};

function single(
  path: string,
  what: string,
  param: { name: string; description: string } | null,
  examples: RouteDoc["examples"],
  invalid: string,
): RouteDoc {
  return {
    method: "GET",
    path,
    tag: TAG,
    summary: `Look up ${what}`,
    description: LICENCE_NOTE,
    security: "licence",
    params: param === null
      ? undefined
      : z.object({ [param.name]: z.string().meta({ description: param.description }) }),
    query: param === null
      ? z.object({
        url: z.string().meta({ description: "The URL, percent-encoded; matched as Safe Browsing" }),
      })
      : undefined,
    responses: { 200: RESULT, 400: errorAnswer(invalid), ...REFUSALS },
    examples,
  };
}

/** An item the batch could not look up: a bad item, a bad value, or one past the time budget. */
const itemErrorSchema = z.union([
  errorBodySchema,
  z.strictObject({ type: z.string(), value: z.string(), error: errorBodySchema.shape.error }),
]);

/** The look-up routes. */
export const LOOKUP_DOCS: readonly RouteDoc[] = [
  single(
    "/v1/files/:hash",
    "a file by its MD5, SHA-1 or SHA-256",
    { name: "hash", description: "MD5, SHA-1 or SHA-256 in hex, any case" },
    [
      {
        summary: "a known file",
        params: { hash: "44d88612fea8a8f36de82e1278abb02f" },
        status: 200,
      },
      {
        summary: "a file nobody knows",
        params: { hash: "00000000000000000000000000000001" },
        status: 200,
      },
      { summary: "not a hash", params: { hash: "not-a-hash" }, status: 400 },
      {
        summary: "no licence key",
        params: { hash: "44d88612fea8a8f36de82e1278abb02f" },
        anonymous: true,
        status: 401,
      },
    ],
    "Not 32, 40 or 64 hex digits: `invalid_hash`",
  ),
  single(
    "/v1/urls",
    "a URL",
    null,
    [
      { summary: "a listed host", query: { url: "http://a.b.evil.example/x/y?q=1" }, status: 200 },
      { summary: "no url parameter", status: 400 },
    ],
    "No `url` parameter or not a URL: `missing_parameter`, `invalid_url`",
  ),
  single(
    "/v1/domains/:name",
    "a domain (the most specific listed parent wins)",
    { name: "name", description: "A domain name; Unicode or punycode" },
    [
      { summary: "a listed domain", params: { name: "malware-c2.example" }, status: 200 },
      {
        summary: "an operator's allow-list override",
        params: { name: "status.malware-c2.example" },
        status: 200,
      },
      { summary: "not a domain", params: { name: "bad..example" }, status: 400 },
    ],
    "Not a domain name: `invalid_domain`",
  ),
  single(
    "/v1/ips/:address{.+}",
    "an IP address or network (exact, else the longest listed network)",
    {
      name: "address",
      description: "An IPv4 or IPv6 address, or a network as `10.0.0.0/8` (or `10.0.0.0%2F8`)",
    },
    [
      { summary: "a listed address", params: { address: "192.0.2.66" }, status: 200 },
      { summary: "an address in a listed network", params: { address: "192.0.2.7" }, status: 200 },
      { summary: "a network", params: { address: "192.0.2.0/24" }, status: 200 },
      { summary: "not an address", params: { address: "300.1.2.3" }, status: 400 },
    ],
    "Not an address or network: `invalid_ip`, `invalid_cidr`",
  ),
  single(
    "/v1/certs/:thumbprint",
    "a signing certificate by its SHA-1 or SHA-256 thumbprint",
    { name: "thumbprint", description: "SHA-1 or SHA-256 in hex; colons allowed" },
    [
      {
        summary: "a certificate nobody knows",
        params: { thumbprint: "3395856ce81f2b7382dee72602f798b642f14140" },
        status: 200,
      },
      { summary: "not a thumbprint", params: { thumbprint: "abc" }, status: 400 },
    ],
    "Not 40 or 64 hex digits: `invalid_thumbprint`",
  ),
  {
    method: "POST",
    path: "/v1/lookup",
    tag: TAG,
    summary: "Look up many objects of any type, answered in order",
    description: `${LICENCE_NOTE} At most \`lookup.maxBatchItems\` items (1,000).`,
    security: "licence",
    body: {
      contentType: "application/json",
      schema: lookupBatchSchema,
      description: 'Each item is `{"type": "file" | "url" | "domain" | "ip" | "cert", ' +
        '"value": "..."}`; an item of another shape gets its own `error` in the answer',
    },
    responses: {
      200: {
        description: "One result per item, in order; an item that could not be looked up " +
          "carries its own `error` (`invalid_item`, `invalid_type`, `invalid_hash`..., " +
          "`batch_budget_exceeded`)",
        schema: z.strictObject({
          results: z.array(z.union([lookupResultSchema, itemErrorSchema])),
        }),
      },
      400: errorAnswer('Not `{"items": [...]}`: `invalid_request`, `invalid_json`'),
      413: errorAnswer(
        "Over `lookup.maxBodyBytes` or too many items: `body_too_large`, " +
          "`too_many_items`",
      ),
      415: errorAnswer(
        "Not `application/json`, or compressed: `unsupported_media_type`, " +
          "`unsupported_content_encoding`",
      ),
      ...REFUSALS,
    },
    examples: [
      {
        summary: "a file, a domain and a bad item",
        body: {
          items: [
            { type: "file", value: "44d88612fea8a8f36de82e1278abb02f" },
            { type: "domain", value: "tracking.example" },
            { type: "file", value: "xyz" },
            { kind: "file" },
          ],
        },
        status: 200,
      },
      { summary: "not a batch", body: { objects: [] }, status: 400 },
    ],
  },
];
