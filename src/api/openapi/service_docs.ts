/**
 * The routes for operators' tools and downstream nodes as the OpenAPI document describes them:
 * health, metrics, the feed tree, and the document itself.
 */
import { z } from "zod";
import { errorAnswer, type RouteDoc } from "../../http/mod.ts";

const TAG = "Service";

const FEED_FILE = z.object({
  path: z.string().meta({
    description: "`timestamp.json`, `root.json`, `root.N.json`, or a file under `manifests/`, " +
      "`snapshots/` or `deltas/`",
  }),
});
const FEED_RANGE = z.object({
  range: z.string().optional().meta({ description: "One `bytes=` range, to resume a download" }),
});
const FEED_ANSWERS: RouteDoc["responses"] = {
  200: { description: "The file as the origin signed it", contentType: "application/octet-stream" },
  206: { description: "The range asked for", contentType: "application/octet-stream" },
  401: errorAnswer("A licence is needed (`sync.feedRequiresLicence`) and none fits"),
  404: errorAnswer("No such file in this node's feed: `not_found`"),
  416: errorAnswer("A range outside the file: `range_not_satisfiable`"),
};
const FEED_EXAMPLES: RouteDoc["examples"] = [
  { summary: "a file this node's feed does not have", params: { path: "root.json" }, status: 404 },
];

/** The service routes. */
export const SERVICE_DOCS: readonly RouteDoc[] = [
  {
    method: "GET",
    path: "/healthz",
    tag: TAG,
    summary: "Liveness: the process answers",
    security: "none",
    responses: {
      200: { description: "Alive", schema: z.strictObject({ status: z.literal("ok") }) },
    },
    examples: [{ summary: "alive", status: 200 }],
  },
  {
    method: "GET",
    path: "/readyz",
    tag: TAG,
    summary: "Readiness: the database is open at the current schema version",
    security: "none",
    responses: {
      200: {
        description: "Ready",
        schema: z.strictObject({ status: z.literal("ready"), schemaVersion: z.number().int() }),
      },
      503: errorAnswer("Not ready: `not_ready`"),
    },
    examples: [{ summary: "ready", status: 200 }],
  },
  {
    method: "GET",
    path: "/metrics",
    tag: TAG,
    summary: "Prometheus metrics",
    security: "none",
    responses: {
      200: {
        description: "Prometheus text format 0.0.4",
        contentType: "text/plain; version=0.0.4; charset=utf-8",
      },
    },
    examples: [{ summary: "the metrics", status: 200 }],
  },
  {
    method: "GET",
    path: "/feed/*",
    tag: TAG,
    summary: "A file of the verified feed tree, for downstream nodes",
    description: "Served when `sync.serveFeed` is on, exactly as the origin signed it; " +
      "immutable files may be cached for a year. Needs the downstream node's licence key " +
      "unless `sync.feedRequiresLicence` is off.",
    security: "licence",
    params: FEED_FILE,
    headers: FEED_RANGE,
    responses: FEED_ANSWERS,
    examples: FEED_EXAMPLES,
  },
  {
    method: "HEAD",
    path: "/feed/*",
    tag: TAG,
    summary: "A feed file's length and headers, without the file",
    security: "licence",
    params: FEED_FILE,
    headers: FEED_RANGE,
    responses: FEED_ANSWERS,
    examples: FEED_EXAMPLES,
  },
  {
    method: "GET",
    path: "/openapi.json",
    tag: TAG,
    summary: "This document",
    description: "The routes this node serves, built from the schemas the routes parse with.",
    security: "none",
    responses: {
      200: {
        description: "An OpenAPI 3.1 document",
        schema: z.looseObject({
          openapi: z.string().startsWith("3.1."),
          info: z.looseObject({ title: z.string(), version: z.string() }),
          paths: z.record(z.string(), z.record(z.string(), z.looseObject({}))),
        }),
      },
    },
    examples: [{ summary: "the document", status: 200 }],
  },
];
