/**
 * The compatible routes answer errors in their protocol's shape (what the real clients parse),
 * with the status and headers (`Retry-After`, `WWW-Authenticate`) every pksn error gets.
 */
import type { Context } from "hono";
import { AppError, type Logger } from "../../core/mod.ts";
import { errorResponse } from "../../http/mod.ts";

/** Renders one error as the protocol's body. */
export type ForeignBody = (err: AppError, status: number) => unknown;

/**
 * Runs `handler`; an `AppError` it throws is answered with `render`'s body. Anything else keeps
 * the generic 500, which never shows internals.
 */
export function inForeignShape(
  log: Logger,
  render: ForeignBody,
  handler: (c: Context) => Response | Promise<Response>,
): (c: Context) => Promise<Response> {
  return async function foreign(c: Context): Promise<Response> {
    try {
      return await handler(c);
    } catch (err) {
      const standard = errorResponse(err, c.req.raw, log);
      if (!(err instanceof AppError)) return standard;
      return new Response(JSON.stringify(render(err, standard.status)), {
        status: standard.status,
        headers: standard.headers,
      });
    }
  };
}
