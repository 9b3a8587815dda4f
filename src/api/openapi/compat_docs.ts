/**
 * The compatible routes as the OpenAPI document describes them: CIRCL hashlookup and the
 * VirusTotal v3 subset, each answering (and failing) in its protocol's shape.
 */
import { z } from "zod";
import {
  errorBodySchema,
  lookupResultSchema,
  type RouteDoc,
  type RouteResponse,
} from "../../http/mod.ts";
import { VERDICTS, VIAS } from "../../reputation/mod.ts";
import { bulkSchema } from "../compat/hashlookup.ts";

const HASHLOOKUP = "CIRCL hashlookup";
const VIRUSTOTAL = "VirusTotal v3";
const ACCESS = "The licence key as on `/v1`, or a source network in `compat.allow` (keyless " +
  "clients are answered from this node's own data only). On unless `compat.hashlookup` is off.";

/** hashlookup's error: its `message`, and pksn's `code` beside it. */
const hashlookupError = (description: string): RouteResponse => ({
  description,
  schema: z.strictObject({ message: z.string(), code: z.string() }),
});

/** A record in hashlookup's shape for a hash of `key` ("MD5", "SHA-1", "SHA-256"). */
function recordSchema(key: string): z.ZodType {
  return z.strictObject({
    [key]: z.string().meta({ description: "The asked hash, upper case" }),
    source: z.string().optional(),
    KnownMalicious: z.string().optional().meta({
      description: "The source of a malicious or phishing verdict",
    }),
    "hashlookup:trust": z.number().int().meta({ description: "50, less 20 when known malicious" }),
    "pksn:verdict": z.enum(VERDICTS),
    "pksn:threat": z.string().optional(),
    "pksn:categories": z.array(z.string()).optional(),
    "pksn:first_seen": z.number().int().optional().meta({ description: "Epoch seconds" }),
    "pksn:last_seen": z.number().int().optional().meta({ description: "Epoch seconds" }),
    "pksn:via": z.enum(VIAS),
    "pksn:stale": z.literal(true).optional(),
  });
}

const KINDS = [
  ["md5", "MD5", "MD5", "44d88612fea8a8f36de82e1278abb02f", "00000000000000000000000000000001"],
  [
    "sha1",
    "SHA-1",
    "SHA-1",
    "3395856ce81f2b7382dee72602f798b642f14140",
    "0000000000000000000000000000000000000001",
  ],
  [
    "sha256",
    "SHA-256",
    "SHA-256",
    "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
    "0000000000000000000000000000000000000000000000000000000000000001",
  ],
] as const;

const hashlookupDocs: RouteDoc[] = KINDS.flatMap(([kind, key, label, known, unknown]) => {
  const record = recordSchema(key);
  const refusals = {
    401: hashlookupError("No key and not in `compat.allow`, or a key that is not valid"),
    403: hashlookupError(
      "The licence has not chosen a participation mode: " +
        "`participation_required`",
    ),
    429: hashlookupError("Over the licence's quota: `rate_limited`"),
  };
  return [
    {
      method: "GET",
      path: `/lookup/${kind}/:hash`,
      tag: HASHLOOKUP,
      summary: `Look up a file by its ${label}`,
      description: ACCESS,
      security: "licence",
      params: z.object({ hash: z.string().meta({ description: `The ${label} in hex` }) }),
      responses: {
        200: { description: "The node has a verdict for it", schema: record },
        400: hashlookupError(`Not a ${label} in hex: \`invalid_hash\``),
        404: {
          description: `The node has no verdict for it: \`{"message": "Non existing ${label}"}\``,
          schema: z.strictObject({ message: z.string(), query: z.string() }),
        },
        ...refusals,
      },
      examples: [
        { summary: "a known file", params: { hash: known }, status: 200 },
        { summary: "a file nobody knows", params: { hash: unknown }, status: 404 },
        { summary: "not a hash", params: { hash: "xyz" }, status: 400 },
        { summary: "no licence key", params: { hash: known }, anonymous: true, status: 401 },
      ],
    },
    {
      method: "POST",
      path: `/bulk/${kind}`,
      tag: HASHLOOKUP,
      summary: `Look up many ${label}s: the records of those found`,
      description: `${ACCESS} At most \`lookup.maxBatchItems\` hashes.`,
      security: "licence",
      body: { contentType: "application/json", schema: bulkSchema },
      responses: {
        200: { description: "The records of the hashes found, in order", schema: z.array(record) },
        400: hashlookupError('Not `{"hashes": [...]}`, or a hash of the wrong form'),
        413: hashlookupError("Too many hashes: `too_many_items`"),
        ...refusals,
      },
      examples: [
        { summary: "one known, one not", body: { hashes: [known, unknown] }, status: 200 },
        { summary: "not a list of hashes", body: { hash: known }, status: 400 },
      ],
    },
  ] satisfies RouteDoc[];
});

/** VirusTotal's analysis summary, from this node's one verdict. */
const vtObjectSchema = z.strictObject({
  data: z.strictObject({
    id: z.string(),
    type: z.enum(["file", "url", "domain", "ip_address"]),
    links: z.strictObject({ self: z.string() }),
    attributes: z.strictObject({
      last_analysis_stats: z.strictObject({
        malicious: z.number().int(),
        suspicious: z.number().int(),
        undetected: z.number().int(),
        harmless: z.number().int(),
        timeout: z.number().int(),
      }),
      last_analysis_results: z.strictObject({
        pksn: z.strictObject({
          category: z.string(),
          engine_name: z.literal("pksn"),
          engine_version: z.string(),
          method: z.string(),
          result: z.string(),
        }),
      }),
      reputation: z.number().int(),
      tags: z.array(z.string()),
      total_votes: z.strictObject({ harmless: z.number().int(), malicious: z.number().int() }),
      pksn: lookupResultSchema,
      last_analysis_date: z.number().int().optional(),
      first_submission_date: z.number().int().optional(),
      popular_threat_classification: z.strictObject({ suggested_threat_label: z.string() })
        .optional(),
      md5: z.string().optional(),
      sha1: z.string().optional(),
      sha256: z.string().optional(),
      url: z.string().optional(),
    }),
  }),
});

const vtError = (description: string): RouteResponse => ({ description, schema: errorBodySchema });

const VT_COLLECTIONS = [
  ["files", "a file by its MD5, SHA-1 or SHA-256", "44d88612fea8a8f36de82e1278abb02f"],
  [
    "urls",
    "a URL by its id: the URL in unpadded base64url (`vt.url_id(url)`)",
    "aHR0cDovL2EuYi5ldmlsLmV4YW1wbGUveC95P3E9MQ",
  ],
  ["domains", "a domain", "malware-c2.example"],
  ["ip_addresses", "an IP address", "192.0.2.66"],
] as const;

const virusTotalDocs: RouteDoc[] = VT_COLLECTIONS.map(([collection, what, known]) => ({
  method: "GET",
  path: `/api/v3/${collection}/:id{.+}`,
  tag: VIRUSTOTAL,
  summary: `Look up ${what}`,
  description: "The licence key in `x-apikey`, or a source network in `compat.allow`. The " +
    "analysis fields are this node's one verdict (see the README's \"VirusTotal v3\"). On " +
    "unless `compat.virustotal` is off.",
  security: "vt-key",
  params: z.object({ id: z.string() }),
  responses: {
    200: { description: "The object", schema: vtObjectSchema },
    400: vtError("A URL id that is not base64url: `InvalidArgumentError`"),
    401: vtError(
      "No key (`AuthenticationRequiredError`) or not a valid one " +
        "(`WrongCredentialsError`)",
    ),
    403: vtError("The licence has not chosen a participation mode: `ForbiddenError`"),
    404: vtError("The node has no verdict for it: `NotFoundError`"),
    429: vtError("Over the licence's quota: `QuotaExceededError`"),
  },
  examples: [
    { summary: "a listed object", params: { id: known }, status: 200 },
    ...(collection === "files"
      ? [
        {
          summary: "a file nobody knows",
          params: { id: "00000000000000000000000000000001" },
          status: 404,
        },
        { summary: "no key", params: { id: known }, anonymous: true, status: 401 },
      ]
      : []),
    ...(collection === "urls"
      ? [{ summary: "not base64url", params: { id: "a+b" }, status: 400 }]
      : []),
  ],
}));

/** The compatible routes. */
export const COMPAT_DOCS: readonly RouteDoc[] = [
  ...hashlookupDocs,
  {
    method: "GET",
    path: "/info",
    tag: HASHLOOKUP,
    summary: "About this node, in hashlookup's `/info` place",
    description: ACCESS,
    security: "licence",
    responses: {
      200: {
        description: "pksn's version, the mirror's version and the number of file records",
        schema: z.strictObject({
          "pksn-version": z.string(),
          "mirror-version": z.number().int().nullable(),
          "stat:hashlookup_total_keys": z.number().int(),
        }),
      },
      401: hashlookupError("No key and not in `compat.allow`, or a key that is not valid"),
    },
    examples: [{ summary: "the node", status: 200 }],
  },
  ...virusTotalDocs,
];
