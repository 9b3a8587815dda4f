/** The one place that turns a failure into the JSON error response. */
import { HTTPException } from "hono/http-exception";
import { AppError, errorBody } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";

const JSON_TYPE = "application/json";

/**
 * Maps any thrown value to `{"error":{"code","message"}}` with its status.
 * Unexpected errors are logged with their stack and answered with a generic 500,
 * so no internals reach the client.
 */
export function errorResponse(err: unknown, request: Request, log: Logger): Response {
  if (err instanceof AppError) {
    return new Response(JSON.stringify(errorBody(err.code, err.message)), {
      status: err.status,
      headers: { "content-type": JSON_TYPE, ...err.headers },
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
