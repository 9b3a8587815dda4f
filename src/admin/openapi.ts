/**
 * The admin API as the OpenAPI document describes it. `cli/serve` hands these descriptions to the
 * public app, which serves the document: `api/` and `admin/` do not import each other. Their order
 * is the order the tests run the examples in, since some build on others (a licence added, then
 * changed); logging out comes last, as it ends the session the others use.
 */
import { z } from "zod";
import { errorAnswer, nodeParticipationSchema, type RouteDoc } from "../http/mod.ts";
import { LICENCE_ADMIN_DOCS } from "./openapi_licences.ts";
import { OPERATIONS_ADMIN_DOCS } from "./openapi_operations.ts";
import { REPUTATION_ADMIN_DOCS } from "./openapi_reputation.ts";
import { loginSchema, participationSchema, setupSchema } from "./routes.ts";
import { SESSION_REFUSALS } from "./_openapi_shared.ts";

const TAG = "Admin: account";

const sessionSchema = z.strictObject({
  username: z.string(),
  csrfToken: z.string().meta({ description: "Send it as `X-CSRF-Token` with every change" }),
  expiresAt: z.string(),
});
const ORIGIN_REFUSED = errorAnswer(
  "A host or origin that is not allowed: `host_not_allowed`, " +
    "`csrf_failed`",
);

const ACCOUNT_DOCS: readonly RouteDoc[] = [
  {
    method: "POST",
    path: "/admin/api/setup",
    tag: TAG,
    summary: "First run: create the account with the one-time token the node logs",
    security: "none",
    body: { contentType: "application/json", schema: setupSchema },
    responses: {
      201: { description: "Created", schema: z.strictObject({ username: z.string() }) },
      400: errorAnswer("A field that does not fit, or a weak password: `invalid_request`..."),
      403: errorAnswer(
        "A wrong or used token (`setup_token_invalid`), or a host or origin that " +
          "is not allowed",
      ),
      409: errorAnswer("An account exists: `admin_exists`"),
    },
    examples: [{
      summary: "a wrong token",
      body: { token: "not-the-token", username: "admin", password: "correct horse battery staple" },
      status: 403,
    }],
  },
  {
    method: "POST",
    path: "/admin/api/login",
    tag: TAG,
    summary: "Sign in: sets the session cookie `pksn_admin` and answers the CSRF token",
    security: "none",
    body: { contentType: "application/json", schema: loginSchema },
    responses: {
      200: { description: "Signed in", schema: sessionSchema },
      400: errorAnswer("Not a username and password: `invalid_request`"),
      401: errorAnswer("Wrong username or password: `login_failed`"),
      403: ORIGIN_REFUSED,
      429: errorAnswer("Too many failures; locked for a while: `login_locked`"),
    },
    examples: [
      {
        summary: "the operator",
        body: { username: "admin", password: "correct horse battery staple" },
        status: 200,
      },
      { summary: "a wrong password", body: { username: "admin", password: "guess" }, status: 401 },
    ],
  },
  {
    method: "GET",
    path: "/admin/api/session",
    tag: TAG,
    summary: "The signed-in user and the CSRF token",
    security: "session",
    responses: { 200: { description: "The session", schema: sessionSchema }, ...SESSION_REFUSALS },
    examples: [
      { summary: "signed in", status: 200 },
      { summary: "without a session", anonymous: true, status: 401 },
    ],
  },
  {
    method: "GET",
    path: "/admin/api/participation",
    tag: TAG,
    summary: "The node's own participation",
    security: "session",
    responses: {
      200: { description: "The participation", schema: nodeParticipationSchema },
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "the participation", status: 200 }],
  },
  {
    method: "POST",
    path: "/admin/api/participation",
    tag: TAG,
    summary: "Set the node's own participation mode",
    security: "session",
    body: { contentType: "application/json", schema: participationSchema },
    responses: {
      200: { description: "The participation as set", schema: nodeParticipationSchema },
      400: errorAnswer("Not a mode: `invalid_request`"),
      409: errorAnswer("A mode that needs the statement accepted: `statement_not_accepted`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      {
        summary: "send nothing upstream",
        body: { mode: "do-not-participate" },
        status: 200,
      },
      { summary: "not a mode", body: { mode: "sometimes" }, status: 400 },
    ],
  },
];

const LOGOUT: RouteDoc = {
  method: "POST",
  path: "/admin/api/logout",
  tag: TAG,
  summary: "Sign out: ends the session",
  security: "session",
  responses: { 204: { description: "Signed out" }, ...SESSION_REFUSALS },
  examples: [{ summary: "sign out", status: 204 }],
};

/** Every admin API route, as the document describes it, in the order the examples run. */
export const ADMIN_ROUTE_DOCS: readonly RouteDoc[] = [
  ...ACCOUNT_DOCS,
  ...LICENCE_ADMIN_DOCS,
  ...REPUTATION_ADMIN_DOCS,
  ...OPERATIONS_ADMIN_DOCS,
  LOGOUT,
];
