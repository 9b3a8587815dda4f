/** What every admin route's description shares: the refusals of the session guard. */
import { errorAnswer, type RouteResponse } from "../http/mod.ts";

/** The answers of `withSession` (routes.ts) before the handler runs. */
export const SESSION_REFUSALS: Readonly<Record<number, RouteResponse>> = {
  401: errorAnswer("No valid session cookie: `admin_auth_required`"),
  403: errorAnswer(
    "A host or origin that is not allowed (`host_not_allowed`, `csrf_failed`), or a " +
      "state-changing request without the session's `X-CSRF-Token` (`csrf_failed`)",
  ),
};
