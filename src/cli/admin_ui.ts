/**
 * Wires the admin web UI for `pksn serve`: the sources of its dashboard and pages, read from
 * the node's running parts. A part the node does not run is passed as null.
 */
import { type AdminAuth, type AdminUiDeps, adminUiRouter } from "../admin/mod.ts";
import type { Clock } from "../core/mod.ts";
import type { HttpMetrics, InstrumentDeps } from "../http/mod.ts";
import type { Node } from "../node/mod.ts";
import { LICENCE_STATES, type LicenceState } from "../licences/mod.ts";
import type { KsnProxy } from "../proxy/mod.ts";
import { AppError } from "../core/mod.ts";
import { LocalOverrides, OBJECT_TYPES, type ObjectType, VERDICTS } from "../reputation/mod.ts";
import type { SyncService } from "../mirror/mod.ts";
import type { Spool } from "../store/mod.ts";
import type { SampleStore } from "../samples/mod.ts";
import type { UpgradeSpool } from "../upgrade/mod.ts";
import { SCHEMA_VERSION } from "../store/mod.ts";
import { versionText } from "../core/mod.ts";

/** The running parts the UI reads. */
export interface AdminUiParts {
  auth: AdminAuth;
  node: Node;
  clock: Clock;
  metrics: HttpMetrics;
  statsDir: string;
  proxy: KsnProxy | null;
  sync: SyncService | null;
  spool: Spool | null;
  samples: SampleStore;
  /** The appliance upgrade spool, when `upgrade.enabled`. */
  upgrades: UpgradeSpool | null;
}

/** The router that mounts the UI, for `createApp`'s `routers`. */
export function webUi(parts: AdminUiParts): ReturnType<typeof adminUiRouter> {
  const { node, metrics } = parts;
  const overrides = new LocalOverrides({ db: node.db, clock: parts.clock });
  {
    const deps: Omit<AdminUiDeps, keyof InstrumentDeps> = {
      auth: parts.auth,
      node,
      clock: parts.clock,
      statsDir: parts.statsDir,
      samples: () => ({
        ...parts.samples.list(100),
        parent: node.config.upstream.url !== null,
      }),
      sync: parts.sync ? () => ({ ...parts.sync!.report() }) : null,
      syncRuns: parts.sync ? () => parts.sync!.recentRuns : null,
      dashboard: {
        node,
        clock: parts.clock,
        statsDir: parts.statsDir,
        quarantineBytes: () => parts.samples.usedBytes(),
        lookupsPerMinute: metrics.lookupsPerMinute,
        verdicts: () =>
          Object.fromEntries(
            VERDICTS.map((
              v,
            ) => [v, OBJECT_TYPES.reduce((n, t) => n + metrics.verdicts.get(t, v), 0)]),
          ),
        proxy: parts.proxy ? () => parts.proxy!.report() : null,
        sync: parts.sync ? () => parts.sync!.report() : null,
        spool: parts.spool
          ? () => ({
            totals: parts.spool!.totals(),
            lastError: parts.spool!.due("statistics", Number.MAX_SAFE_INTEGER, 1)[0]?.lastError ??
              parts.spool!.due("sample", Number.MAX_SAFE_INTEGER, 1)[0]?.lastError ?? null,
          })
          : null,
      },
      licences: (q, state) =>
        node.licences.list({
          text: q,
          state: (LICENCE_STATES as readonly string[]).includes(state)
            ? state as LicenceState
            : undefined,
        }),
      audit: (filter) =>
        node.licences.auditLog(500, {
          action: filter.action || undefined,
          actor: filter.actor || undefined,
        }),
      system: async () => ({
        version: versionText(SCHEMA_VERSION),
        upgrade: parts.upgrades === null ? null : await parts.upgrades.report(),
      }),
      reputation: ({ type, value }) => {
        const listed = overrides.list({ limit: 500 }).overrides;
        const view = { type, value, result: null, error: null, overrides: listed } as ReturnType<
          AdminUiDeps["reputation"]
        >;
        if (value === "") return view;
        try {
          if (!(OBJECT_TYPES as readonly string[]).includes(type)) {
            throw new AppError("invalid", "invalid_type", `Unknown type ${type}`);
          }
          return { ...view, result: { ...node.reputation.lookup(type as ObjectType, value) } };
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          return { ...view, error: err.message };
        }
      },
    };
    return adminUiRouter(deps);
  }
}
