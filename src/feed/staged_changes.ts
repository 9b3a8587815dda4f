/**
 * A delta's checked changes, held compactly outside the JS heap (typed arrays:
 * about 40 bytes a change plus the key) until the one transaction that writes
 * them. A 1M-change delta needs about 50 MB here, not a few hundred MB of
 * objects in a heap capped at 96 MB.
 */
import type { Op } from "./stream_format.ts";

/** One staged change, read back. */
export interface StagedChange {
  op: Op;
  key: Uint8Array;
  attr: number;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** Changes in the order they were staged. */
export class StagedChanges {
  #keys = new Uint8Array(1 << 16);
  #keyBytes = 0;
  #ends = new Uint32Array(1024);
  #ops = new Uint8Array(1024);
  #attrs = new Uint32Array(1024);
  #dates = new Float64Array(2048);
  #count = 0;

  /** How many changes are staged. */
  get length(): number {
    return this.#count;
  }

  /** Adds one change. */
  push(change: StagedChange): void {
    if (this.#count === this.#ops.length) this.#grow();
    while (this.#keyBytes + change.key.length > this.#keys.length) {
      const bigger = new Uint8Array(this.#keys.length * 2);
      bigger.set(this.#keys.subarray(0, this.#keyBytes));
      this.#keys = bigger;
    }
    const i = this.#count++;
    this.#keys.set(change.key, this.#keyBytes);
    this.#keyBytes += change.key.length;
    this.#ends[i] = this.#keyBytes;
    this.#ops[i] = change.op;
    this.#attrs[i] = change.attr;
    this.#dates[2 * i] = change.firstSeen ?? NaN;
    this.#dates[2 * i + 1] = change.lastSeen ?? NaN;
  }

  /** The `i`-th change; its key is a view into the store, valid until the next push. */
  at(i: number): StagedChange {
    const start = i === 0 ? 0 : this.#ends[i - 1];
    const first = this.#dates[2 * i];
    const last = this.#dates[2 * i + 1];
    return {
      op: this.#ops[i] as Op,
      key: this.#keys.subarray(start, this.#ends[i]),
      attr: this.#attrs[i],
      firstSeen: Number.isNaN(first) ? null : first,
      lastSeen: Number.isNaN(last) ? null : last,
    };
  }

  #grow(): void {
    const n = this.#ops.length * 2;
    const ends = new Uint32Array(n);
    ends.set(this.#ends);
    this.#ends = ends;
    const ops = new Uint8Array(n);
    ops.set(this.#ops);
    this.#ops = ops;
    const attrs = new Uint32Array(n);
    attrs.set(this.#attrs);
    this.#attrs = attrs;
    const dates = new Float64Array(2 * n);
    dates.set(this.#dates);
    this.#dates = dates;
  }
}
