/** The look-up and local override admin routes as the OpenAPI document describes them. */
import { z } from "zod";
import { errorAnswer, lookupResultSchema, type RouteDoc } from "../http/mod.ts";
import {
  OBJECT_TYPES,
  overrideAddSchema,
  overrideEditSchema,
  overrideListSchema,
  overrideTargetSchema,
  VERDICTS,
} from "../reputation/mod.ts";
import { lookupQuery, overrideQuery } from "./reputation_routes.ts";
import { SESSION_REFUSALS } from "./_openapi_shared.ts";

const REPUTATION = "Admin: reputation";

const overrideSchema = z.strictObject({
  type: z.enum(OBJECT_TYPES),
  value: z.string(),
  verdict: z.enum(VERDICTS),
  threat: z.string().optional(),
  categories: z.array(z.string()).optional(),
  source: z.string(),
  reason: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});
const oneOverride = z.strictObject({ override: overrideSchema });
const INVALID = errorAnswer("A field that does not fit: `invalid_request`, `invalid_list`...");
const NO_OVERRIDE = errorAnswer("The object has no override: `override_not_found`");

/** The look-up and override admin routes, in the order their examples run. */
export const REPUTATION_ADMIN_DOCS: readonly RouteDoc[] = [
  {
    method: "GET",
    path: "/admin/api/lookup",
    tag: REPUTATION,
    summary: "Look up one object without a licence",
    security: "session",
    query: lookupQuery,
    responses: {
      200: { description: "The result, as `/v1` answers it", schema: lookupResultSchema },
      400: errorAnswer("Not a type and value: `invalid_request`, `invalid_hash`..."),
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "a listed domain",
        query: { type: "domain", value: "malware-c2.example" },
        status: 200,
      },
      { summary: "no type", query: { value: "malware-c2.example" }, status: 400 },
    ],
  },
  {
    method: "GET",
    path: "/admin/api/overrides",
    tag: REPUTATION,
    summary: "The local overrides, newest first",
    security: "session",
    query: overrideQuery,
    responses: {
      200: {
        description: "The overrides that match, and how many match in all",
        schema: z.strictObject({ overrides: z.array(overrideSchema), total: z.number().int() }),
      },
      400: INVALID,
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "domain overrides", query: { type: "domain", limit: "10" }, status: 200 },
      { summary: "a limit too large", query: { limit: "5000" }, status: 400 },
    ],
  },
  {
    method: "POST",
    path: "/admin/api/overrides",
    tag: REPUTATION,
    summary: "Add a local override (or replace the object's override)",
    description: "`clean` allows; `malicious`, `phishing`, `adware` and `suspicious` block.",
    security: "session",
    body: { contentType: "application/json", schema: overrideAddSchema },
    responses: {
      200: { description: "It replaced the object's override", schema: oneOverride },
      201: { description: "Added", schema: oneOverride },
      400: INVALID,
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "block a domain",
        body: {
          type: "domain",
          value: "bad.customer.example",
          verdict: "malicious",
          reason: "ticket 1234",
        },
        status: 201,
      },
      {
        summary: "no reason",
        body: { type: "domain", value: "bad.customer.example", verdict: "malicious" },
        status: 400,
      },
    ],
  },
  {
    method: "PATCH",
    path: "/admin/api/overrides",
    tag: REPUTATION,
    summary: "Change an override",
    security: "session",
    body: { contentType: "application/json", schema: overrideEditSchema },
    responses: {
      200: { description: "The override as changed", schema: oneOverride },
      400: INVALID,
      404: NO_OVERRIDE,
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "allow it instead",
        body: { type: "domain", value: "bad.customer.example", verdict: "clean" },
        status: 200,
      },
      {
        summary: "an object without an override",
        body: { type: "domain", value: "nothing.example", reason: "x" },
        status: 404,
      },
    ],
  },
  {
    method: "DELETE",
    path: "/admin/api/overrides",
    tag: REPUTATION,
    summary: "Remove an override",
    security: "session",
    body: { contentType: "application/json", schema: overrideTargetSchema },
    responses: {
      204: { description: "Removed" },
      400: INVALID,
      404: NO_OVERRIDE,
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "remove it",
        body: { type: "domain", value: "bad.customer.example" },
        status: 204,
      },
      {
        summary: "gone already",
        body: { type: "domain", value: "bad.customer.example" },
        status: 404,
      },
    ],
  },
  {
    method: "POST",
    path: "/admin/api/overrides/import",
    tag: REPUTATION,
    summary: "Import a list of one type, one value a line, all or none",
    description: "`#` comments and blank lines are skipped; at most 1 MiB.",
    security: "session",
    query: overrideListSchema,
    body: { contentType: "text/plain" },
    responses: {
      201: {
        description: "How many overrides",
        schema: z.strictObject({ imported: z.number().int() }),
      },
      400: errorAnswer(
        "A bad option, or the first bad lines, named: `invalid_request`, " +
          "`invalid_list`",
      ),
      415: errorAnswer("Not `text/plain`: `unsupported_media_type`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "two domains to block",
        query: { type: "domain", verdict: "malicious", reason: "abuse desk list" },
        headers: { "content-type": "text/plain" },
        body: "# abuse desk\nspam-1.example\nspam-2.example\n",
        status: 201,
      },
      {
        summary: "a line that is not a domain",
        query: { type: "domain", verdict: "malicious", reason: "abuse desk list" },
        headers: { "content-type": "text/plain" },
        body: "not a domain\n",
        status: 400,
      },
    ],
  },
];
