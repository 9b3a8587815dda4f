/**
 * Accepting a batch of detection records: each record is checked on its own,
 * the good ones are written durably, and a batch sent again with the same
 * idempotency key is answered from the first time instead of being stored twice.
 */
import { type Clock, InvalidInputError, type Logger, quote } from "../core/mod.ts";
import type { StatsReceivedRepository } from "../store/mod.ts";
import type { DailyFiles } from "./daily_files.ts";
import { checkRecord, type RecordCheck, type StatsRecord } from "./record.ts";
import type { StatsMetrics } from "./stats_metrics.ts";

/** A batch whose accepted records are on disk, as handed to `onAccepted`. */
export interface AcceptedBatch {
  /** The idempotency key when the client sent one, else a random UUID. */
  id: string;
  records: StatsRecord[];
  /** The records' NDJSON lines exactly as written to the day file. */
  ndjson: Uint8Array;
}

/**
 * Called after the accepted records are synced to disk (the upstream forwarder
 * plugs in here). Synchronous: it runs inside the transaction that records the
 * batch's idempotency key, so both commit together or neither does.
 */
export type OnAccepted = (batch: AcceptedBatch) => void;

/** Why one record was rejected; `index` counts from 0 in the order sent. */
export interface RecordError {
  index: number;
  message: string;
}

/** The answer to a batch. */
export interface BatchResult {
  accepted: number;
  rejected: number;
  errors: RecordError[];
  batchId: string;
}

/** What {@link StatsIngest} needs. */
export interface IngestDeps {
  files: DailyFiles;
  received: StatsReceivedRepository;
  clock: Clock;
  log: Logger;
  metrics: StatsMetrics;
  onAccepted?: OnAccepted;
}

const KEY = /^[A-Za-z0-9._:@+\/=-]{1,128}$/;

/** Checks an `Idempotency-Key` header value; 400 `invalid_idempotency_key` otherwise. */
export function parseIdempotencyKey(value: string): string {
  const key = value.trim();
  if (!KEY.test(key)) {
    throw new InvalidInputError(
      "invalid_idempotency_key",
      `Invalid Idempotency-Key ${
        quote(value)
      }: expected 1 to 128 letters, digits or ._:@+/=- (a UUID is ideal)`,
    );
  }
  return key;
}

/** Validates, stores and acknowledges batches of statistics records. */
export class StatsIngest {
  readonly #deps: IngestDeps;
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(deps: IngestDeps) {
    this.#deps = deps;
  }

  /**
   * Accepts a batch from `licenceId`. With `idempotencyKey`, a key this licence
   * used before answers the first result again (`replayed`, with the counts but
   * not the per-record errors, which are not kept) and stores nothing.
   */
  async accept(
    licenceId: number,
    records: readonly unknown[],
    idempotencyKey?: string,
  ): Promise<BatchResult & { replayed: boolean }> {
    if (idempotencyKey === undefined) {
      return { ...await this.#store(licenceId, records, crypto.randomUUID()), replayed: false };
    }
    const slot = `${licenceId}:${idempotencyKey}`;
    // The same key sent twice at once: the second waits for the first, then replays it.
    for (let pending = this.#inFlight.get(slot); pending; pending = this.#inFlight.get(slot)) {
      await pending.catch(() => {});
    }
    const first = this.#deps.received.find(licenceId, idempotencyKey);
    if (first !== undefined) {
      this.#deps.metrics.batches.inc("replayed");
      return { ...first, errors: [], batchId: idempotencyKey, replayed: true };
    }
    const run = this.#store(licenceId, records, idempotencyKey, idempotencyKey);
    this.#inFlight.set(slot, run);
    try {
      return { ...await run, replayed: false };
    } finally {
      this.#inFlight.delete(slot);
    }
  }

  async #store(
    licenceId: number,
    inputs: readonly unknown[],
    batchId: string,
    key?: string,
  ): Promise<BatchResult> {
    const { files, received, clock, log, metrics, onAccepted } = this.#deps;
    const good: StatsRecord[] = [];
    const errors: RecordError[] = [];
    const now = clock.now();
    let failed = 0;
    let firstFailure: { index: number; err: unknown } | undefined;
    for (let index = 0; index < inputs.length; index++) {
      // Each record on its own: whatever one record does, the others are still stored.
      let check: RecordCheck;
      try {
        check = checkRecord(inputs[index], { now });
      } catch (err) {
        failed++;
        firstFailure ??= { index, err };
        check = {
          ok: false,
          message: "Cannot check this record: internal error, see the node's log",
        };
      }
      if (check.ok) good.push(check.record);
      else errors.push({ index, message: check.message });
    }
    if (firstFailure !== undefined) {
      // One line a batch: a hostile batch must not flood the log.
      const why = (firstFailure.err as Error)?.message ?? String(firstFailure.err);
      log.error(
        `Cannot check ${failed} record(s) of statistics batch ${quote(batchId)}, ` +
          `the first at index ${firstFailure.index}: ${why}`,
      );
    }
    const appended = good.length > 0 ? await files.append(good) : undefined;
    const result = { accepted: good.length, rejected: errors.length, errors, batchId };
    const queue = (): void => {
      if (appended === undefined || onAccepted === undefined) return;
      try {
        onAccepted({ id: batchId, records: appended.records, ndjson: appended.ndjson });
      } catch (err) {
        // The records are stored here either way; only what the hook does is missed.
        log.error(
          `Statistics batch ${quote(batchId)} stored, but its hook failed: ${
            (err as Error).message
          }`,
        );
      }
    };
    // Recorded after the records are on disk, and in one transaction with the
    // upstream queueing: a crash in between means a retry stores them twice,
    // never that they are acknowledged and lost, or recorded but never queued.
    if (key !== undefined) {
      received.record(licenceId, key, Math.floor(clock.now() / 1000), result, queue);
    } else queue();
    metrics.batches.inc("stored");
    metrics.records.inc("accepted", "", result.accepted);
    metrics.records.inc("rejected", "", result.rejected);
    return result;
  }
}
