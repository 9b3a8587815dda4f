/** The licence, audit and statement admin routes as the OpenAPI document describes them. */
import { z } from "zod";
import { errorAnswer, type RouteDoc } from "../http/mod.ts";
import { CLIENT_MODES } from "../licences/mod.ts";
import {
  addSchema,
  auditQuery,
  changeSchema,
  listQuery,
  revokeSchema,
  rotateSchema,
  statementSchema,
} from "./licence_routes.ts";
import { SESSION_REFUSALS } from "./_openapi_shared.ts";

const TAG = "Admin: licences";

/** A licence as the admin API shows it: never its key. */
const licenceSchema = z.strictObject({
  id: z.number().int(),
  keyId: z.string(),
  customer: z.string(),
  status: z.enum(["active", "revoked", "expired", "not-yet-valid"]),
  validFrom: z.string(),
  expires: z.string(),
  graceUntil: z.string().optional(),
  replacedBy: z.number().int().optional(),
  modes: z.array(z.enum(CLIENT_MODES)),
  quota: z.number().int().nullable(),
  notes: z.string().nullable(),
  participation: z.strictObject({
    mode: z.string(),
    statementVersion: z.number().int().nullable(),
  }).nullable(),
  createdAt: z.string(),
});
const oneLicence = z.strictObject({ licence: licenceSchema });
const ID = z.object({ id: z.string().meta({ description: "The licence's id (never its key)" }) });

const NOT_FOUND = errorAnswer("No licence with that id: `license_not_found`");
const INVALID = errorAnswer("A field that does not fit: `invalid_request`, `invalid_date`");

const statementAnswer = z.strictObject({
  version: z.number().int(),
  text: z.string(),
  publishedAt: z.string(),
  acceptedVersion: z.number().int().nullable().meta({
    description: "The version the node itself accepted",
  }),
});

/** The licence admin routes, in the order their examples run (they build on each other). */
export const LICENCE_ADMIN_DOCS: readonly RouteDoc[] = [
  {
    method: "GET",
    path: "/admin/api/licences",
    tag: TAG,
    summary: "List and filter licences",
    security: "session",
    query: listQuery,
    responses: {
      200: {
        description: "The licences",
        schema: z.strictObject({ licences: z.array(licenceSchema) }),
      },
      400: errorAnswer("A bad filter: `invalid_request`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "active licences", query: { state: "active" }, status: 200 },
      { summary: "a state that does not exist", query: { state: "sleeping" }, status: 400 },
      { summary: "without a session", anonymous: true, status: 401 },
    ],
  },
  {
    method: "POST",
    path: "/admin/api/licences",
    tag: TAG,
    summary: "Register a licence; its key is shown this once",
    security: "session",
    body: { contentType: "application/json", schema: addSchema },
    responses: {
      201: {
        description: "The licence and its key",
        schema: z.strictObject({ licence: licenceSchema, key: z.string() }),
      },
      400: INVALID,
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "a licence with a quota",
        body: { customer: "ACME Ltd", expires: "2027-12-31", quota: 600, notes: "contract 42" },
        status: 201,
      },
      { summary: "no expiry", body: { customer: "ACME Ltd" }, status: 400 },
      {
        summary: "a wrong CSRF token",
        headers: { "x-csrf-token": "not-the-token" },
        body: { customer: "ACME Ltd", expires: "2027-12-31" },
        status: 403,
      },
    ],
  },
  {
    method: "POST",
    path: "/admin/api/licences/import",
    tag: TAG,
    summary: "Register the licences of a CSV, all or none",
    description: "The `pksn license import` format: `key,customer,expires[,valid_from,quota," +
      "modes,notes]`; at most 1 MiB.",
    security: "session",
    body: { contentType: "text/csv" },
    responses: {
      201: {
        description: "The licences registered",
        schema: z.strictObject({ imported: z.number().int(), licences: z.array(licenceSchema) }),
      },
      400: errorAnswer("A bad line, named: `invalid_csv`..."),
      415: errorAnswer("Not `text/csv`: `unsupported_media_type`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "one licence",
        headers: { "content-type": "text/csv" },
        body: "key,customer,expires\nBETA-CUSTOMER-KEY-0001-EXAMPLE,Beta GmbH,2027-06-30\n",
        status: 201,
      },
      { summary: "an empty CSV", headers: { "content-type": "text/csv" }, body: "", status: 400 },
    ],
  },
  {
    method: "PATCH",
    path: "/admin/api/licences/:id",
    tag: TAG,
    summary: "Change a licence's terms",
    security: "session",
    params: ID,
    body: { contentType: "application/json", schema: changeSchema },
    responses: {
      200: { description: "The licence as changed", schema: oneLicence },
      400: INVALID,
      404: NOT_FOUND,
      409: errorAnswer("The licence is revoked: `license_revoked`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "lift the quota", params: { id: "2" }, body: { quota: null }, status: 200 },
      { summary: "no such licence", params: { id: "999" }, body: { notes: "x" }, status: 404 },
    ],
  },
  {
    method: "POST",
    path: "/admin/api/licences/:id/rotate",
    tag: TAG,
    summary: "Issue a new key; the old one works for a grace period",
    security: "session",
    params: ID,
    body: { contentType: "application/json", schema: rotateSchema },
    responses: {
      200: {
        description: "The old licence, the new one and its key, shown this once",
        schema: z.strictObject({ old: licenceSchema, renewed: licenceSchema, key: z.string() }),
      },
      400: INVALID,
      404: NOT_FOUND,
      409: errorAnswer("Revoked or already rotated: `license_revoked`, `license_rotated`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "a week's grace", params: { id: "2" }, body: { graceHours: 168 }, status: 200 },
      { summary: "rotated already", params: { id: "2" }, body: {}, status: 409 },
    ],
  },
  {
    method: "POST",
    path: "/admin/api/licences/:id/revoke",
    tag: TAG,
    summary: "Revoke a licence at once",
    security: "session",
    params: ID,
    body: { contentType: "application/json", schema: revokeSchema },
    responses: {
      200: { description: "The revoked licence", schema: oneLicence },
      400: INVALID,
      404: NOT_FOUND,
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "contract ended",
        params: { id: "3" },
        body: { reason: "contract ended" },
        status: 200,
      },
    ],
  },
  {
    method: "GET",
    path: "/admin/api/audit",
    tag: TAG,
    summary: "The audit log, newest first",
    security: "session",
    query: auditQuery,
    responses: {
      200: {
        description: "The entries",
        schema: z.strictObject({
          entries: z.array(z.strictObject({
            at: z.string(),
            actor: z.string(),
            action: z.string(),
            licenceId: z.number().int().nullable(),
            detail: z.unknown(),
          })),
        }),
      },
      400: errorAnswer("A bad filter: `invalid_request`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "the last five admin changes", query: { limit: "5" }, status: 200 },
      { summary: "a limit too large", query: { limit: "5000" }, status: 400 },
    ],
  },
  {
    method: "GET",
    path: "/admin/api/statement",
    tag: TAG,
    summary: "The KSN Statement and the version the node accepted",
    security: "session",
    responses: {
      200: { description: "The statement", schema: statementAnswer },
      404: errorAnswer("No statement yet: `statement_not_found`"),
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "the statement", status: 200 }],
  },
  {
    method: "POST",
    path: "/admin/api/statement",
    tag: TAG,
    summary: "Publish the next statement version, which every client must accept again",
    security: "session",
    body: { contentType: "application/json", schema: statementSchema },
    responses: {
      201: { description: "The new statement", schema: statementAnswer },
      400: errorAnswer("No text, or not a statement: `invalid_request`, `invalid_statement`"),
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "no text", body: {}, status: 400 }],
  },
];
