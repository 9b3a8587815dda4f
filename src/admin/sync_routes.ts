/**
 * `POST /admin/api/sync`: "sync now". The run happens in the serving node (which joins a run
 * already under way), and the answer is its outcome, or the error that stopped it.
 * `POST /admin/api/sync/bundle`: an offline bundle uploaded as the body, written to a private
 * file (bounded), then verified and applied exactly as `pksn feed import-bundle` does.
 */
import type { Hono } from "hono";
import { join } from "node:path";
import { AppError, toHex, writeUpload } from "../core/mod.ts";
import { allowOnly, type InstrumentDeps } from "../http/mod.ts";
import { NO_STORE, type SessionGuard, uploadBody } from "./_route_kit.ts";

/** The sync service as this route uses it; null when the node follows no feed. */
export interface SyncNow {
  runOnce(): Promise<object>;
}

/** Applying an uploaded bundle; null when the node has no trusted root to verify one with. */
export interface BundleUpload {
  /** A private folder for the upload while it is checked. */
  dir: string;
  maxBytes: number;
  apply(path: string): Promise<object>;
}

const PATH = "/admin/api/sync";
const BUNDLE_PATH = "/admin/api/sync/bundle";
const BUNDLE_TYPES = new Set(["application/x-tar", "application/octet-stream"]);

/** Adds the sync route to `app`, behind `guard`. */
export function mountSyncAdminRoutes(
  app: Hono,
  deps: InstrumentDeps & { sync: SyncNow | null; bundles: BundleUpload | null },
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
  app.post(
    BUNDLE_PATH,
    guard(BUNDLE_PATH, async function uploadBundle(c): Promise<Response> {
      const bundles = deps.bundles;
      if (bundles === null) {
        throw new AppError(
          "conflict",
          "sync_root_missing",
          "sync.root is not set: a bundle is verified against the feed's trusted root.json",
        );
      }
      const body = uploadBody(
        c,
        BUNDLE_TYPES,
        "Send the bundle as the body with Content-Type application/x-tar",
        "bundle_empty",
      );
      await Deno.mkdir(bundles.dir, { recursive: true, mode: 0o700 });
      const path = join(
        bundles.dir,
        `upload-${toHex(crypto.getRandomValues(new Uint8Array(8)))}.tar`,
      );
      try {
        await writeUpload(body, path, {
          what: "bundle",
          maxBytes: bundles.maxBytes,
          limitSetting: "sync.maxFileMiB",
          tooLargeCode: "bundle_too_large",
          otherwise: "apply it with pksn feed import-bundle",
        });
        return c.json({ result: await bundles.apply(path) }, 200, NO_STORE);
      } finally {
        await Deno.remove(path).catch(() => {});
      }
    }),
  );
  allowOnly(app, PATH, ["POST"], deps);
  allowOnly(app, BUNDLE_PATH, ["POST"], deps);
}
