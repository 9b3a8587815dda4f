/**
 * How a router describes its routes for the OpenAPI document at `/openapi.json`: with the zod
 * schemas it parses requests with, the schemas of its answers, and examples that the tests send
 * to a real node (`tests/openapi/`). It lives here, below `api/` and `admin/`, so both describe
 * their routes the same way without importing each other.
 */
import { z } from "zod";
import { NODE_MODES, type NodeParticipationState } from "../licences/mod.ts";
import { type LookupResult, OBJECT_TYPES, VERDICTS, VIAS } from "../reputation/mod.ts";

/**
 * Who may call a route: anyone; a client with a licence key (`Authorization: Bearer` or
 * `X-License-Key`); a VirusTotal client with its key in `x-apikey`; the operator's admin session
 * (state-changing methods also need the session's `X-CSRF-Token`).
 */
export type RouteSecurity = "none" | "licence" | "vt-key" | "session";

/** One documented answer of a route. */
export interface RouteResponse {
  description: string;
  /** The JSON body's schema; absent when the body is empty or not JSON. */
  schema?: z.ZodType;
  /** The body's media type when it is not JSON (`text/plain`, `application/x-tar`...). */
  contentType?: string;
}

/** A request the document shows and the tests send, with the status it answers. */
export interface RouteExample {
  /** What it shows, in a few words: "a known file", "an unknown licence id". */
  summary: string;
  /** Path parameters by name. */
  params?: Readonly<Record<string, string>>;
  query?: Readonly<Record<string, string>>;
  headers?: Readonly<Record<string, string>>;
  /** The body: JSON for a JSON route, else text sent as it is. */
  body?: unknown;
  /** Sent without the route's credentials, to show the refusal. */
  anonymous?: boolean;
  status: number;
}

/** One route (a method and a path) as the OpenAPI document describes it. */
export interface RouteDoc {
  method: "GET" | "HEAD" | "POST" | "PATCH" | "DELETE";
  /** The path exactly as the router registers it with Hono (`/v1/ips/:address{.+}`). */
  path: string;
  /** The group it is listed under. */
  tag: string;
  summary: string;
  description?: string;
  security: RouteSecurity;
  /** Path parameters. */
  params?: z.ZodObject;
  /** The query the route parses (an object schema, possibly preprocessed). */
  query?: z.ZodType;
  /** Request headers the route reads. */
  headers?: z.ZodObject;
  /** The request body: its media type and, for JSON, the schema the route parses it with. */
  body?: { contentType: string; schema?: z.ZodType; description?: string };
  /** The answers by status. */
  responses: Readonly<Record<number, RouteResponse>>;
  examples: readonly RouteExample[];
}

/** The one error shape `{"error":{"code","message"}}` of every pksn route. */
export const errorBodySchema = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: "Stable, for programs: `license_expired`" }),
    message: z.string().meta({ description: "For people: names the bad value and what to do" }),
  }),
});

/** An error answer with the one error shape, listing the codes it may carry. */
export function errorAnswer(description: string): RouteResponse {
  return { description, schema: errorBodySchema };
}

/** The answer to one look-up, as `/v1` and the admin look-up return it. */
export const lookupResultSchema: z.ZodType<LookupResult> = z.strictObject({
  type: z.enum(OBJECT_TYPES),
  value: z.string().meta({ description: "The normalised form of what was asked" }),
  verdict: z.enum(VERDICTS),
  threat: z.string().optional(),
  categories: z.array(z.string()).optional(),
  ttl: z.number().int().min(0).optional().meta({ description: "Seconds a client may cache it" }),
  source: z.string().optional(),
  override: z.boolean().optional(),
  firstSeen: z.string().optional(),
  lastSeen: z.string().optional(),
  match: z.strictObject({ type: z.enum(OBJECT_TYPES), value: z.string() }).optional().meta({
    description: "For URLs, domains and IPs: the listing that matched",
  }),
  via: z.enum(VIAS).meta({ description: "Who answered" }),
  stale: z.boolean().optional(),
  proxyTimeout: z.boolean().optional(),
}).meta({ title: "LookupResult" });

/** The node's own participation, as `/v1/node` and the admin API show it. */
export const nodeParticipationSchema: z.ZodType<NodeParticipationState> = z.strictObject({
  mode: z.enum(NODE_MODES),
  statementAccepted: z.boolean(),
  statementAcceptedVersion: z.number().int().nullable(),
  currentStatementVersion: z.number().int(),
  upstream: z.strictObject({
    lookups: z.boolean(),
    statistics: z.boolean(),
    samples: z.boolean(),
  }).meta({ description: "What may leave the node for its parent now" }),
});
