/**
 * The loop that empties the spool into the parent node. Every
 * `stats.forwardIntervalSeconds` it sends the oldest due entries of each kind
 * the node's participation allows, deletes what was delivered and backs off on
 * failure. An entry leaves the spool only when the parent has it, so nothing is
 * lost across an outage or a restart; the idempotency key makes retries safe.
 *
 * Over 300 lines on purpose: the loop, its back-off and its metrics form one state machine;
 * split up, each part would need the others' state.
 */
import {
  type Clock,
  Counter,
  type Logger,
  MAX_BACKOFF_MS,
  type Registry,
  retryDelayMs,
  toHex,
} from "../core/mod.ts";
import type { NodeParticipation, UpstreamTraffic } from "../licences/mod.ts";
import type { Upstream } from "./client.ts";
import { CorruptSampleError, type SampleMeta } from "../samples/mod.ts";
import { type Spool, SPOOL_KINDS, type SpoolEntry, type SpoolKind } from "../store/mod.ts";

/** Timers as a dependency, so tests decide when the loop runs. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Where the forwarder finds a sample's bytes. */
export interface SampleSource {
  /** Null when the sample is gone; throws {@link CorruptSampleError} when its record is damaged. */
  read(sha256: string): Promise<{ bytes: Uint8Array; meta: SampleMeta } | null>;
}

/** What {@link Forwarder} needs. */
export interface ForwarderDeps {
  spool: Spool;
  upstream: Upstream;
  /** The one place that decides what may leave the node. */
  participation: Pick<NodeParticipation, "allows">;
  /** Null when this node keeps no samples. */
  samples: SampleSource | null;
  clock: Clock;
  log: Logger;
  /** `stats.forwardIntervalSeconds`; also the first retry's wait. */
  intervalSeconds: number;
  registry?: Registry;
  timers?: Timers;
  /** Jitter source; `Math.random` unless a test fixes it. */
  random?: () => number;
}

/** What one pass sent. */
export interface ForwardSummary {
  sent: number;
  failed: number;
}

const TRAFFIC: Readonly<Record<SpoolKind, UpstreamTraffic>> = {
  statistics: "statistics",
  sample: "samples",
};

// Why an entry was not delivered, as the failed counter's "reason" label.
const FAILURE_REASONS = ["retryable", "permanent", "missing", "corrupt"] as const;
type FailureReason = typeof FAILURE_REASONS[number];

// Entries read per query; a pass keeps reading until nothing is due.
const PAGE = 50;

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/** Sends spooled statistics and samples upstream, on a timer or on demand. */
export class Forwarder {
  readonly #deps: ForwarderDeps;
  readonly #timers: Timers;
  readonly #random: () => number;
  readonly #sent: Counter;
  readonly #failed: Counter;
  readonly #rejected: Counter;
  #timer: unknown;
  #running: Promise<ForwardSummary> | undefined;
  #started = false;
  #stopping = false;
  // After a retryable failure the parent is unwell: nothing is sent until then.
  #pausedUntil = 0;

  constructor(deps: ForwarderDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? defaultTimers;
    this.#random = deps.random ?? Math.random;
    this.#sent = new Counter("pksn_upstream_sent_total", "Entries delivered upstream", ["kind"]);
    this.#failed = new Counter(
      "pksn_upstream_failed_total",
      `Failed upstream sends by reason (${FAILURE_REASONS.join(", ")})`,
      ["kind", "reason"],
    );
    this.#rejected = new Counter(
      "pksn_upstream_records_rejected_total",
      "Statistics records the parent took delivery of but refused",
      ["kind"],
    );
    deps.registry?.register(this.#sent);
    deps.registry?.register(this.#rejected);
    deps.registry?.register(this.#failed);
  }

  /** Starts the timer; the first pass runs one interval from now. */
  start(): void {
    if (this.#started || this.#stopping) return;
    this.#started = true;
    this.#schedule();
  }

  /** Stops the timer and waits for a send in flight; nothing else is sent after it. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Runs one pass now (or joins the one running) and reports what it did. */
  runOnce(): Promise<ForwardSummary> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Delivered and failed sends since this forwarder was made, by kind. */
  counts(kind: SpoolKind): { sent: number; failed: number } {
    const failed = FAILURE_REASONS
      .reduce((n, reason) => n + this.#failed.get(kind, reason), 0);
    return { sent: this.#sent.get(kind), failed };
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.runOnce()
        .catch((err) => this.#deps.log.error(`Upstream forwarding failed: ${errorText(err)}`))
        .finally(() => this.#schedule());
    }, this.#deps.intervalSeconds * 1000);
  }

  async #pass(): Promise<ForwardSummary> {
    const { spool, participation, clock } = this.#deps;
    const summary: ForwardSummary = { sent: 0, failed: 0 };
    for (const kind of SPOOL_KINDS) {
      while (!this.#stopping && participation.allows(TRAFFIC[kind])) {
        const now = clock.now();
        // The operator's `pksn upstream retry` lifts the pause: they fixed what failed.
        if (now < this.#pausedUntil && spool.retryRequested()) this.#pausedUntil = 0;
        if (now < this.#pausedUntil) return summary;
        const page = spool.due(kind, now, PAGE);
        if (page.length === 0) break;
        for (const entry of page) {
          // The operator may change the mode during a long pass: ask before every send.
          if (this.#stopping || !participation.allows(TRAFFIC[kind])) return summary;
          const outcome = await this.#send(entry);
          if (outcome === "sent") summary.sent++;
          else summary.failed++;
          if (outcome === "pause") return summary;
        }
      }
    }
    return summary;
  }

  async #send(entry: SpoolEntry): Promise<"sent" | "failed" | "pause"> {
    const { spool, upstream, log } = this.#deps;
    try {
      if (entry.kind === "statistics") {
        const receipt = await upstream.sendStatistics(entry.batchId, entry.body);
        if (receipt.rejected > 0) {
          // Delivered, but the parent refused some records; sending them again cannot help.
          this.#rejected.inc(entry.kind, "", receipt.rejected);
          log.warn(
            `Upstream refused ${receipt.rejected} records of a statistics batch` +
              (receipt.firstError ? `: ${receipt.firstError}` : ""),
            { batch: entry.batchId },
          );
        }
      } else {
        const sha256 = toHex(entry.body);
        const sample = await this.#deps.samples?.read(sha256) ?? null;
        if (sample === null) {
          // Retention or the operator removed it; there is nothing left to send.
          this.#drop(entry, "missing");
          log.warn(
            `Sample "${sha256}" is no longer in quarantine: removed from the upstream spool`,
          );
          return "failed";
        }
        await upstream.sendSample(sha256, sample.bytes, sample.meta);
      }
    } catch (err) {
      if (err instanceof CorruptSampleError) {
        // Every later attempt would read the same damaged row: report it once and let it go.
        this.#drop(entry, "corrupt");
        log.error(
          `Cannot forward sample upstream, removed from the spool (the file stays in the ` +
            `quarantine): ${err.message}`,
          { batch: entry.batchId },
        );
        return "failed";
      }
      return this.#failure(entry, err);
    }
    spool.remove(entry.id);
    this.#sent.inc(entry.kind);
    return "sent";
  }

  /** Takes an entry that can never be delivered out of the spool, counting why. */
  #drop(entry: SpoolEntry, reason: FailureReason): void {
    this.#deps.spool.remove(entry.id);
    this.#failed.inc(entry.kind, reason);
  }

  /**
   * Records a failed send. A retryable failure, or a refusal of this node (401,
   * 403), also pauses all sending until the entry's next attempt.
   */
  #failure(entry: SpoolEntry, err: unknown): "failed" | "pause" {
    const { spool, clock, log } = this.#deps;
    const failure = err as {
      retryable?: unknown;
      retryAfterSeconds?: unknown;
      upstreamStatus?: unknown;
    };
    // Anything not known to be permanent is retried: an entry is never dropped by guesswork.
    const retryable = failure.retryable !== false;
    const attempts = entry.attempts + 1;
    const wait = retryable
      ? retryDelayMs(attempts, {
        baseMs: this.#deps.intervalSeconds * 1000,
        random: this.#random(),
        retryAfterSeconds: typeof failure.retryAfterSeconds === "number"
          ? failure.retryAfterSeconds
          : null,
      })
      : MAX_BACKOFF_MS;
    const next = clock.now() + wait;
    const message = errorText(err);
    spool.defer(entry.id, next, message);
    this.#failed.inc(entry.kind, retryable ? "retryable" : "permanent");
    const fields = { batch: entry.batchId, attempts, retryInSeconds: Math.round(wait / 1000) };
    if (retryable) {
      log.warn(`Cannot forward ${entry.kind} upstream, will retry: ${message}`, fields);
      this.#pausedUntil = next;
      return "pause";
    }
    log.error(
      `Upstream refused ${entry.kind}, kept in the spool and retried every ` +
        `${MAX_BACKOFF_MS / 60_000} min: ${message}`,
      fields,
    );
    // 401 and 403 refuse this node, not this entry: the others would meet the same answer.
    if (failure.upstreamStatus === 401 || failure.upstreamStatus === 403) {
      this.#pausedUntil = next;
      return "pause";
    }
    return "failed";
  }
}

/** A batch statistics ingestion has made durable (`onAccepted`'s argument). */
export interface AcceptedStatistics {
  id: string;
  /** The records as stored, stamped with `receivedAt`. */
  records: readonly unknown[];
  ndjson: Uint8Array;
}

/**
 * The hook statistics ingestion calls once a batch is durable: queue it for the
 * parent, as a client would send it. The parent's `POST /v1/stats` takes client
 * records, so this node's `receivedAt` stamp is left out (the parent adds its own).
 */
export function queueAcceptedStatistics(
  spool: Spool,
): (batch: AcceptedStatistics) => void {
  return function queueStatistics(batch): void {
    // A fresh key per queued batch: a client's own Idempotency-Key is unique only
    // per licence at this node, and the parent must never merge two nodes' batches.
    spool.enqueue("statistics", crypto.randomUUID(), asClientNdjson(batch.records));
  };
}

function asClientNdjson(records: readonly unknown[]): Uint8Array {
  let text = "";
  for (const record of records) {
    const { receivedAt: _, ...sent } = record as Record<string, unknown>;
    text += JSON.stringify(sent) + "\n";
  }
  return new TextEncoder().encode(text);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
