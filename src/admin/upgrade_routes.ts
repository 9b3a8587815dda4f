/**
 * The appliance upgrade, as the operator drives it on a box without SSH:
 * `POST /admin/api/upgrade` takes an upgrade bundle (`scripts/build-image` makes it) as the body
 * and leaves it for the appliance's root-owned `pksn-upgrade` to verify and apply;
 * `GET /admin/api/upgrade` shows how that goes. Both answer 404 `upgrade_not_enabled` unless
 * `upgrade.enabled` is set, as the image's configuration does.
 */
import type { Hono } from "hono";
import { AppError } from "../core/mod.ts";
import { allowOnly, type InstrumentDeps } from "../http/mod.ts";
import type { UpgradeSpool } from "../upgrade/mod.ts";
import { NO_STORE, type SessionGuard, uploadBody } from "./_route_kit.ts";

const PATH = "/admin/api/upgrade";
const BUNDLE_TYPES = new Set(["application/octet-stream", "application/x-tar"]);

/** Adds the upgrade routes to `app`, behind `guard`. */
export function mountUpgradeAdminRoutes(
  app: Hono,
  deps: InstrumentDeps & { upgrades: Pick<UpgradeSpool, "report" | "accept"> | null },
  guard: SessionGuard,
): void {
  const spool = (): Pick<UpgradeSpool, "report" | "accept"> => {
    if (deps.upgrades !== null) return deps.upgrades;
    throw new AppError(
      "not_found",
      "upgrade_not_enabled",
      "This node takes no upgrade bundles: upgrades are for the appliance image, whose " +
        "configuration sets upgrade.enabled",
    );
  };
  app.get(
    PATH,
    guard(PATH, async function upgradeStatus(c): Promise<Response> {
      return c.json(await spool().report(), 200, NO_STORE);
    }),
  );
  app.post(
    PATH,
    guard(PATH, async function uploadUpgrade(c): Promise<Response> {
      const upgrades = spool();
      const body = uploadBody(
        c,
        BUNDLE_TYPES,
        "Send the upgrade bundle as the body with Content-Type application/octet-stream",
        "upgrade_empty",
      );
      return c.json({ status: await upgrades.accept(body) }, 202, NO_STORE);
    }),
  );
  allowOnly(app, PATH, ["GET", "POST"], deps);
}
