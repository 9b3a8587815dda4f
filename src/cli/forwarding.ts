/**
 * Wires the quarantine, the upstream spool and the forwarder for `pksn serve`.
 * Without `upstream.url` the node still keeps samples, but queues nothing.
 */
import type { Clock, Config, Logger, Registry } from "../core/mod.ts";
import type { NodeParticipation } from "../licences/mod.ts";
import {
  type AcceptedStatistics,
  createHttpUpstream,
  Forwarder,
  type HttpUpstream,
  queueAcceptedStatistics,
} from "../upstream/mod.ts";
import { QuarantineFolder, quarantineRoot, SampleStore } from "../samples/mod.ts";
import { type DatabaseSync, Spool } from "../store/mod.ts";

/** How often old samples are looked for. */
const PRUNE_EVERY_MS = 3_600_000;

/** The running forwarding parts. */
export interface Forwarding {
  samples: SampleStore;
  /** The parent, when one is configured. */
  upstream: HttpUpstream | null;
  spool: Spool | null;
  forwarder: Forwarder | null;
  /** For statistics ingestion: queues a durable batch for the parent; null without one. */
  onStatisticsAccepted: ((batch: AcceptedStatistics) => void) | null;
  /** Stops the timers, waits for a send in flight and releases the client. */
  stop(): Promise<void>;
}

/** What {@link startForwarding} needs. */
export interface ForwardingDeps {
  db: DatabaseSync;
  participation: NodeParticipation;
  clock: Clock;
  log: Logger;
  registry: Registry;
}

/** Creates the parts from the config and starts the forwarder and sample retention. */
export async function startForwarding(config: Config, deps: ForwardingDeps): Promise<Forwarding> {
  const { db, clock, log, registry } = deps;
  const upstream = await createHttpUpstream(config.upstream);
  const spool = upstream === null
    ? null
    : new Spool(db, { clock, log, maxBytes: config.stats.spoolMaxBytes, registry });
  const folder = new QuarantineFolder(quarantineRoot(config.dataDir), { log });
  await folder.clearTemp();
  const samples = new SampleStore({
    db,
    folder,
    clock,
    log,
    maxSampleBytes: config.stats.maxSampleBytes,
    maxTotalBytes: config.stats.quarantineMaxBytes,
    retentionDays: config.stats.sampleRetentionDays,
    spool,
  });
  const forwarder = upstream === null || spool === null ? null : new Forwarder({
    spool,
    upstream,
    participation: deps.participation,
    samples,
    clock,
    log,
    intervalSeconds: config.stats.forwardIntervalSeconds,
    registry,
  });
  let pruned: Promise<unknown> = Promise.resolve();
  const prune = (): void => {
    pruned = samples.prune().catch((err) =>
      log.error(`Cannot remove old samples: ${(err as Error).message}`)
    );
  };
  prune();
  const pruning = setInterval(prune, PRUNE_EVERY_MS);
  forwarder?.start();
  if (upstream) {
    log.info(`Statistics and samples go to upstream ${upstream.url} when participation allows`);
  }
  return {
    samples,
    upstream,
    spool,
    forwarder,
    onStatisticsAccepted: spool === null ? null : queueAcceptedStatistics(spool),
    async stop(): Promise<void> {
      clearInterval(pruning);
      await forwarder?.stop();
      await pruned;
      upstream?.close();
    },
  };
}
