/**
 * `POST /admin/api/sync`: "sync now". The run happens in the serving node (which joins a run
 * already under way), and the answer is its outcome, or the error that stopped it.
 */
import type { Hono } from "hono";
import { AppError } from "../core/mod.ts";
import { allowOnly, type InstrumentDeps } from "../http/mod.ts";
import { NO_STORE, type SessionGuard } from "./_route_kit.ts";

/** The sync service as this route uses it; null when the node follows no feed. */
export interface SyncNow {
  runOnce(): Promise<object>;
}

const PATH = "/admin/api/sync";

/** Adds the sync route to `app`, behind `guard`. */
export function mountSyncAdminRoutes(
  app: Hono,
  deps: InstrumentDeps & { sync: SyncNow | null },
  guard: SessionGuard,
): void {
  app.post(
    PATH,
    guard(PATH, async function syncNow(c): Promise<Response> {
      if (deps.sync === null) {
        throw new AppError(
          "not_found",
          "sync_not_configured",
          "This node follows no feed: set sync.url and sync.root in its configuration",
        );
      }
      try {
        return c.json({ result: await deps.sync.runOnce() }, 200, NO_STORE);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError("upstream", "sync_failed", `Sync failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }),
  );
  allowOnly(app, PATH, ["POST"], deps);
}
