/** A small seeded random source, so every bench run generates the same data set. */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Mulberry32: fast, seedable and good enough to spread hash prefixes evenly. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** Lower-case hex of `bytes` random bytes (a multiple of 4). */
  hex(bytes: number): string {
    let out = "";
    for (let i = 0; i < bytes; i += 4) {
      const v = this.u32();
      out += HEX[v >>> 24] + HEX[(v >>> 16) & 0xff] + HEX[(v >>> 8) & 0xff] + HEX[v & 0xff];
    }
    return out;
  }
}

/** Picks by weight: `table` is `[weight, value]` pairs whose weights sum to 1. */
export function weighted<T>(random: Random, table: readonly (readonly [number, T])[]): T {
  let r = random.next();
  for (const [weight, value] of table) {
    if (r < weight) return value;
    r -= weight;
  }
  return table[table.length - 1][1];
}
