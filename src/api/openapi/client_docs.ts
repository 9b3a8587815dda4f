/**
 * The routes of a client's licence as the OpenAPI document describes them: the KSN Statement, the
 * participation choice, the node summary, statistics and samples.
 */
import { z } from "zod";
import {
  errorAnswer,
  nodeParticipationSchema,
  type RouteDoc,
  type RouteResponse,
} from "../../http/mod.ts";
import { CLIENT_MODES } from "../../licences/mod.ts";
import { OBJECT_TYPES } from "../../reputation/mod.ts";
import { choiceSchema } from "../participation.ts";
import { sampleHeaderSchema } from "../samples.ts";

const TAG = "Licence and participation";

const UNAUTHORIZED = errorAnswer(
  "No key, or an unknown, expired, revoked or not yet valid one: `license_missing`, " +
    "`license_unknown`, `license_expired`, `license_revoked`, `license_not_yet_valid`",
);

/** The KSN Statement a client must accept. */
const statementSchema = z.strictObject({
  version: z.number().int().min(1),
  text: z.string(),
  publishedAt: z.string(),
});

const STATS_REFUSED: RouteResponse = errorAnswer(
  "The licence's participation is not `with-statistics` (`statistics_not_enabled`, " +
    "`samples_not_enabled`) or not the current statement (`participation_required`)",
);

/** The licence and participation routes, statistics and samples. */
export const CLIENT_DOCS: readonly RouteDoc[] = [
  {
    method: "GET",
    path: "/v1/statement",
    tag: TAG,
    summary: "The current KSN Statement",
    description: "No licence needed: a client must read it before it can accept it.",
    security: "none",
    responses: {
      200: { description: "The statement the node enforces", schema: statementSchema },
      503: errorAnswer("No statement is loaded: `not_ready`"),
    },
    examples: [{ summary: "the statement", status: 200 }],
  },
  {
    method: "POST",
    path: "/v1/participation",
    tag: TAG,
    summary: "Choose the licence's participation mode",
    description: "Any mode but `none` needs the current statement version.",
    security: "licence",
    body: { contentType: "application/json", schema: choiceSchema },
    responses: {
      200: {
        description: "The choice recorded",
        schema: z.strictObject({
          mode: z.enum(CLIENT_MODES),
          statementVersion: z.number().int().nullable(),
          currentStatementVersion: z.number().int(),
        }),
      },
      400: errorAnswer("Not a choice: `invalid_request`, `invalid_json`"),
      401: UNAUTHORIZED,
      403: errorAnswer("The licence may not choose this mode: `mode_not_allowed`"),
      409: errorAnswer("An old or missing `statementVersion`: `statement_not_accepted`"),
    },
    examples: [
      {
        summary: "send statistics, having accepted statement 1",
        body: { mode: "with-statistics", statementVersion: 1 },
        status: 200,
      },
      {
        summary: "a mode without the statement version",
        body: { mode: "without-statistics" },
        status: 409,
      },
      { summary: "not a mode", body: { mode: "sometimes" }, status: 400 },
      { summary: "no licence key", body: { mode: "none" }, anonymous: true, status: 401 },
    ],
  },
  {
    method: "GET",
    path: "/v1/participation",
    tag: TAG,
    summary: "The licence's current choice and the modes it may choose",
    security: "licence",
    responses: {
      200: {
        description: "The choice; `mode` is null until the client chooses",
        schema: z.strictObject({
          mode: z.enum(CLIENT_MODES).nullable(),
          statementVersion: z.number().int().nullable(),
          currentStatementVersion: z.number().int(),
          allowedModes: z.array(z.enum(CLIENT_MODES)),
        }),
      },
      401: UNAUTHORIZED,
    },
    examples: [
      { summary: "the demo licence's choice", status: 200 },
      { summary: "no licence key", anonymous: true, status: 401 },
    ],
  },
  {
    method: "GET",
    path: "/v1/node",
    tag: TAG,
    summary: "The node's participation, mirror and KSN proxy",
    security: "licence",
    responses: {
      200: {
        description: "The node's own participation, its records by type, the sync's figures " +
          "when it follows a feed, and the KSN proxy's state",
        schema: z.strictObject({
          participation: nodeParticipationSchema,
          mirror: z.strictObject({
            records: z.record(z.enum(OBJECT_TYPES), z.number().int()),
            indexBuiltAt: z.string(),
            sync: z.looseObject({}).nullable().meta({
              description: "The sync's version, lag and freshness; null without a feed",
            }),
          }),
          proxy: z.looseObject({ enabled: z.boolean() }),
        }),
      },
      401: UNAUTHORIZED,
    },
    examples: [{ summary: "the node summary", status: 200 }],
  },
  {
    method: "POST",
    path: "/v1/stats",
    tag: "Statistics and samples",
    summary: "Send detection records",
    description: "A JSON array of records, or NDJSON (one record a line) with " +
      "`Content-Type: application/x-ndjson`, from a licence that chose `with-statistics`. Each " +
      'record is checked on its own (see the README\'s "Statistics"); an `Idempotency-Key` ' +
      "header makes a retry safe. Answered once the accepted records are on disk.",
    security: "licence",
    body: {
      contentType: "application/json",
      description: "An array of records: `detectedAt`, `detectionType`, `verdict` and optional " +
        "`decision`, `threat`, `md5`, `sha256`, `size`, `fileType`, `filePath`, `url`, ...",
    },
    responses: {
      202: {
        description: "Stored: how many records were accepted and why the others were refused",
        schema: z.strictObject({
          accepted: z.number().int(),
          rejected: z.number().int(),
          errors: z.array(z.strictObject({ index: z.number().int(), message: z.string() })),
          batchId: z.string(),
        }),
      },
      400: errorAnswer("Not JSON or NDJSON: `invalid_json`, `invalid_ndjson`, `invalid_request`"),
      401: UNAUTHORIZED,
      403: STATS_REFUSED,
      413: errorAnswer("Too many records or bytes: `too_many_records`, `body_too_large`"),
      415: errorAnswer("Another content type: `unsupported_media_type`"),
    },
    examples: [
      {
        summary: "one good record and one refused",
        body: [
          {
            detectedAt: "2026-11-28T11:59:00Z",
            detectionType: "file",
            verdict: "malicious",
            decision: "blocked",
            threat: "EICAR-Test-File",
            md5: "44d88612fea8a8f36de82e1278abb02f",
            statisticsVersion: 1,
          },
          { detectedAt: "yesterday", detectionType: "file", verdict: "malicious" },
        ],
        status: 202,
      },
      { summary: "not an array", body: { records: [] }, status: 400 },
    ],
  },
  {
    method: "POST",
    path: "/v1/samples",
    tag: "Statistics and samples",
    summary: "Submit a sample file",
    description: "The file as the raw body, from a licence that chose `with-statistics`; a " +
      "licence is needed even with `auth.required` off. No route reads a sample back.",
    security: "licence",
    headers: sampleHeaderSchema,
    body: { contentType: "application/octet-stream", description: "The file's bytes" },
    responses: {
      200: {
        description: "The node already has these bytes",
        schema: z.strictObject({ sha256: z.string(), duplicate: z.literal(true) }),
      },
      201: {
        description: "Stored in the quarantine",
        schema: z.strictObject({ sha256: z.string(), duplicate: z.literal(false) }),
      },
      400: errorAnswer(
        "A bad header, an empty body, or bytes that do not hash to `X-Sample-Sha256`: " +
          "`invalid_header`, `sample_empty`, `sample_hash_mismatch`",
      ),
      401: UNAUTHORIZED,
      403: STATS_REFUSED,
      413: errorAnswer("Over `stats.maxSampleBytes`: `sample_too_large`"),
      415: errorAnswer("Not `application/octet-stream`: `unsupported_media_type`"),
      507: errorAnswer("The quarantine is full: `quarantine_full`"),
    },
    examples: [
      {
        summary: "a new sample",
        headers: { "x-sample-name": "invoice.pdf.exe", "x-detection": "Demo.Trojan" },
        body: "MZ pksn example sample\n",
        status: 201,
      },
      {
        summary: "the same bytes again",
        headers: { "x-sample-name": "invoice.pdf.exe" },
        body: "MZ pksn example sample\n",
        status: 200,
      },
      {
        summary: "a hash that is not hex",
        headers: { "x-sample-sha256": "not-a-sha256" },
        body: "MZ\n",
        status: 400,
      },
    ],
  },
];
