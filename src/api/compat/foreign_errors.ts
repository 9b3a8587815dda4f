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
): (c: Context) => Response | Promise<Response> {
  const answer = (c: Context, err: unknown): Response => {
    const standard = errorResponse(err, c.req.raw, log);
    if (!(err instanceof AppError)) return standard;
    return new Response(JSON.stringify(render(err, standard.status)), {
      status: standard.status,
      headers: standard.headers,
    });
  };
  // Synchronous while the handler is: most answers need no promise at all.
  return function foreign(c: Context): Response | Promise<Response> {
    try {
      const response = handler(c);
      return response instanceof Promise ? response.catch((err) => answer(c, err)) : response;
    } catch (err) {
      return answer(c, err);
    }
  };
}
