/**
 * Keeps the in-memory index current: builds it on its own connection (so the
 * long read transaction never holds up look-ups) and runs one build at a time.
 */
import type { DatabaseSync } from "../store/mod.ts";
import type { Clock } from "../core/mod.ts";
import type { IndexHolder } from "./lookup.ts";
import { buildIndex, type ReputationIndex } from "./reputation_index.ts";

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Owns the index holder and rebuilds it on request. */
export class IndexKeeper {
  readonly holder: IndexHolder;
  readonly #builder: DatabaseSync;
  readonly #clock: Clock;
  #running: Promise<ReputationIndex> | undefined;
  #queued: Promise<ReputationIndex> | undefined;

  private constructor(builder: DatabaseSync, clock: Clock, first: ReputationIndex) {
    this.#builder = builder;
    this.#clock = clock;
    this.holder = { current: first };
  }

  /** Builds the first index (without pausing: nothing is served yet). */
  static async open(builder: DatabaseSync, clock: Clock): Promise<IndexKeeper> {
    return new IndexKeeper(builder, clock, await buildIndex(builder, { now: clock.now() }));
  }

  /**
   * Rebuilds and swaps in the index. A caller arriving during a build shares the
   * next one, which starts after the current build and so sees the caller's writes.
   */
  refresh(): Promise<ReputationIndex> {
    if (this.#running === undefined) {
      this.#running = this.#build().finally(() => (this.#running = undefined));
      return this.#running;
    }
    this.#queued ??= this.#running.catch(() => {}).then(() => {
      this.#queued = undefined;
      return this.refresh();
    });
    return this.#queued;
  }

  async #build(): Promise<ReputationIndex> {
    this.holder.current = await buildIndex(this.#builder, { now: this.#clock.now(), pause });
    return this.holder.current;
  }
}
