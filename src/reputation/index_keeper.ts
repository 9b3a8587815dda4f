/**
 * Keeps the in-memory index current: builds it on its own connection (so the
 * long read transaction never holds up look-ups) and runs one build at a time.
 */
import { type DatabaseSync, readGenerations } from "../store/mod.ts";
import type { Clock } from "../core/mod.ts";
import type { IndexHolder } from "./lookup.ts";
import { buildIndex, loadSavedIndex, type ReputationIndex, saveIndex } from "./reputation_index.ts";

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The index kept on disk (`DATA/index.bin`): read at open when it matches the database, and,
 * when `save` (the serving node), written after every build for the next start.
 */
export interface SavedIndex {
  dataDir: string;
  save: boolean;
  /** Told when saving fails: the node serves on, the next start builds. */
  warn(message: string): void;
}

/** Owns the index holder and rebuilds it on request. */
export class IndexKeeper {
  readonly holder: IndexHolder;
  readonly #builder: DatabaseSync;
  readonly #clock: Clock;
  readonly #saved: SavedIndex | null;
  #running: Promise<ReputationIndex> | undefined;
  // The entries generation the running build reads at least.
  #runningFrom = -1;
  #queued: Promise<ReputationIndex> | undefined;
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    builder: DatabaseSync,
    clock: Clock,
    first: ReputationIndex,
    saved: SavedIndex | null,
  ) {
    this.#builder = builder;
    this.#clock = clock;
    this.#saved = saved;
    this.holder = { current: first };
  }

  /**
   * The first index: the saved one when it matches the database, else built (without pausing:
   * nothing is served yet) and saved.
   */
  static async open(
    builder: DatabaseSync,
    clock: Clock,
    saved: SavedIndex | null = null,
  ): Promise<IndexKeeper> {
    const loaded = saved === null
      ? null
      : await loadSavedIndex(builder, saved.dataDir, clock.now()).catch(() => null);
    const first = loaded ?? await buildIndex(builder, { now: clock.now() });
    const keeper = new IndexKeeper(builder, clock, first, saved);
    if (loaded === null) keeper.#save(first);
    return keeper;
  }

  /** Resolves once the index built last is on disk (or its saving failed and was reported). */
  saved(): Promise<void> {
    return this.#saving;
  }

  /**
   * Rebuilds and swaps in the index. A caller arriving during a build shares the
   * next one, which starts after the current build and so sees the caller's writes;
   * or the current one, when the caller says which entries generation it needs
   * (`atLeast`) and the build already reads that one or a later one. A sync whose
   * commit the reload timer saw first then waits for that build, not a second one.
   */
  refresh(atLeast?: number): Promise<ReputationIndex> {
    if (this.#running === undefined) {
      // Read before the build's own read transaction starts: the build sees this one or later.
      this.#runningFrom = readGenerations(this.#builder).entries;
      this.#running = this.#build().finally(() => (this.#running = undefined));
      return this.#running;
    }
    if (atLeast !== undefined && this.#runningFrom >= atLeast) return this.#running;
    this.#queued ??= this.#running.catch(() => {}).then(() => {
      this.#queued = undefined;
      return this.refresh();
    });
    return this.#queued;
  }

  async #build(): Promise<ReputationIndex> {
    // Saving writes its record through the builder connection: never inside a build's read
    // transaction, where it would fail against another writer's newer snapshot.
    await this.#saving;
    this.holder.current = await buildIndex(this.#builder, { now: this.#clock.now(), pause });
    this.#save(this.holder.current);
    return this.holder.current;
  }

  /** Saves `index` after any save under way, off the look-up path; a failure is reported. */
  #save(index: ReputationIndex): void {
    const saved = this.#saved;
    if (saved === null || !saved.save) return;
    this.#saving = this.#saving.then(() =>
      saveIndex(this.#builder, saved.dataDir, index).catch((err) =>
        saved.warn(`Cannot save the look-up index for the next start: ${(err as Error).message}`)
      )
    );
  }
}
