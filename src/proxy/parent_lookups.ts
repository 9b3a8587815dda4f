/**
 * Questions to the parent, gathered and shared: a miss while no request is out goes at once
 * (with the others of the same batch); while requests are out, misses that arrive within
 * `windowMs` go in one request of up to `maxBatchItems` objects, and a miss for an object already asked
 * waits for that same answer (a thousand clients asking one unknown hash make one request).
 * Requests in flight and questions waiting are both bounded, so a flood of distinct misses
 * while the parent is slow costs bounded memory: past the bound a miss is not asked.
 */
import type { ParentAnswer, ParentLookupItem } from "../upstream/mod.ts";
import { cacheKey } from "./cache.ts";

/** Sends one request; answers in the items' order, null for an item the parent refused. */
export type SendBatch = (items: readonly ParentLookupItem[]) => Promise<(ParentAnswer | null)[]>;

/** What {@link ParentLookups} needs. */
export interface ParentLookupsOptions {
  send: SendBatch;
  windowMs: number;
  maxBatchItems: number;
  /** Requests to the parent at once. */
  maxInFlight: number;
  /** Questions waiting for a request; more are not asked. */
  maxWaiting: number;
}

interface Question {
  item: ParentLookupItem;
  key: string;
  resolve: (answer: ParentAnswer | null) => void;
}

/** The gathering and sharing of questions to the parent. */
export class ParentLookups {
  readonly #o: ParentLookupsOptions;
  // Every question asked and not yet answered, waiting or sent, by cache key.
  readonly #open = new Map<string, Promise<ParentAnswer | null>>();
  #waiting: Question[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight = 0;
  #soon = false;
  #coalesced = 0;
  #closed = false;

  constructor(options: ParentLookupsOptions) {
    this.#o = options;
  }

  /**
   * The parent's answer for `item` (null when it failed or refused the item), shared with
   * every other caller asking the same object meanwhile; undefined when it is not asked
   * because too many questions wait already.
   */
  ask(item: ParentLookupItem): Promise<ParentAnswer | null> | undefined {
    const key = cacheKey(item.type, item.value);
    const open = this.#open.get(key);
    if (open !== undefined) {
      this.#coalesced++;
      return open;
    }
    if (this.#closed || this.#waiting.length >= this.#o.maxWaiting) return undefined;
    let resolve!: (answer: ParentAnswer | null) => void;
    const answer = new Promise<ParentAnswer | null>((r) => resolve = r);
    this.#open.set(key, answer);
    this.#waiting.push({ item, key, resolve });
    if (this.#waiting.length >= this.#o.maxBatchItems) this.#sendNow();
    else if (this.#inFlight === 0) {
      // With nothing out, waiting would only add latency: the questions asked in this same
      // turn of the event loop (one batch look-up's misses) go together, at once.
      if (!this.#soon) {
        this.#soon = true;
        queueMicrotask(() => this.#sendNow());
      }
    } else {
      // While requests are out, questions gather for a window, so a busy node sends full batches.
      this.#timer ??= setTimeout(() => this.#sendNow(), this.#o.windowMs);
    }
    return answer;
  }

  /** Questions that shared another's answer, since start. */
  get coalesced(): number {
    return this.#coalesced;
  }

  /** Questions waiting and requests in flight. */
  get load(): { waiting: number; inFlight: number } {
    return { waiting: this.#waiting.length, inFlight: this.#inFlight };
  }

  /** Answers every waiting question with null and sends no more requests. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const q of this.#waiting) this.#answer(q, null);
    this.#waiting = [];
  }

  #sendNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#soon = false;
    while (this.#waiting.length && this.#inFlight < this.#o.maxInFlight) {
      const batch = this.#waiting.splice(0, this.#o.maxBatchItems);
      this.#inFlight++;
      this.#send(batch).finally(() => {
        this.#inFlight--;
        if (this.#waiting.length) this.#sendNow();
      });
    }
  }

  async #send(batch: Question[]): Promise<void> {
    let answers: (ParentAnswer | null)[];
    try {
      answers = await this.#o.send(batch.map((q) => q.item));
    } catch {
      // The sender counted and logged the failure; every asker falls back.
      answers = [];
    }
    for (let i = 0; i < batch.length; i++) this.#answer(batch[i], answers[i] ?? null);
  }

  #answer(q: Question, answer: ParentAnswer | null): void {
    this.#open.delete(q.key);
    q.resolve(answer);
  }
}
