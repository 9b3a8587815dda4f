/**
 * The one place that turns a failure into an HTTP answer: an error's kind becomes a status,
 * its details become headers, and the body is `{"error":{"code","message"}}`.
 */
import { HTTPException } from "hono/http-exception";
import { AppError, errorBody, type ErrorKind, type Logger } from "../core/mod.ts";

const JSON_TYPE = "application/json";

/** The HTTP status of each kind of error. */
export const STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  usage: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_allowed: 405,
  conflict: 409,
  too_large: 413,
  unsupported: 415,
  out_of_range: 416,
  rate_limited: 429,
  internal: 500,
  upstream: 502,
  unavailable: 503,
  full: 507,
};

/** The HTTP status an error is answered with. */
export function statusOf(err: AppError): number {
  return STATUS_OF_KIND[err.kind];
}

/** The headers an error's details call for. */
function errorHeaders(err: AppError): Record<string, string> {
  const headers: Record<string, string> = { "content-type": JSON_TYPE };
  const { retryAfter, allow, bearer, size } = err.details;
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  if (allow !== undefined) headers["Allow"] = allow.join(", ");
  if (bearer) headers["WWW-Authenticate"] = 'Bearer realm="pksn"';
  if (size !== undefined) headers["Content-Range"] = `bytes */${size}`;
  return headers;
}

/**
 * Maps any thrown value to `{"error":{"code","message"}}` with its status.
 * Unexpected errors are logged with their stack and answered with a generic 500,
 * so no internals reach the client.
 */
export function errorResponse(err: unknown, request: Request, log: Logger): Response {
  if (err instanceof AppError) {
    return new Response(JSON.stringify(errorBody(err.code, err.message)), {
      status: statusOf(err),
      headers: errorHeaders(err),
    });
  }
  if (err instanceof HTTPException) {
    return new Response(
      JSON.stringify(errorBody("http_error", err.message || `HTTP ${err.status}`)),
      { status: err.status, headers: { "content-type": JSON_TYPE } },
    );
  }
  log.error(
    `Unhandled error on ${request.method} ${new URL(request.url).pathname}: ${
      (err as Error)?.stack ?? err
    }`,
  );
  return new Response(
    JSON.stringify(errorBody("internal_error", "Internal error; the node's log has details")),
    { status: 500, headers: { "content-type": JSON_TYPE } },
  );
}
