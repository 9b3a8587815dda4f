/**
 * The state checksum: a 64-bit sum of per-row hashes. Because it is a sum, a
 * delta updates it by subtracting the rows it replaces and adding the rows it
 * writes, so checking a 100k-change delta against a 10M-row mirror costs 100k
 * hashes, not 10M. It guards against a wrong base, a lost write or a publisher
 * bug; tampering is the signatures' and file hashes' job, not this one's.
 */

const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3 (x86, 32-bit) of bytes. */
export function murmur3(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const n = bytes.length;
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    h = mixWord(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  let k = 0;
  switch (n & 3) {
    case 3:
      k ^= bytes[whole + 2] << 16;
    // falls through
    case 2:
      k ^= bytes[whole + 1] << 8;
    // falls through
    case 1:
      k ^= bytes[whole];
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
  }
  return fmix(h ^ n);
}

/** Two independent 32-bit hashes of one value. */
export type Hash64 = readonly [number, number];

/** The hash of an attribute set, from its canonical text. */
export function attributeHash(text: string): Hash64 {
  const bytes = new TextEncoder().encode(text);
  return [murmur3(bytes, SEED_A), murmur3(bytes, SEED_B)];
}

const NONE = 0xffffffff;

/** The row hash of one mirror row: its key, its attributes and its dates. */
export function rowHash(
  key: Uint8Array,
  attr: Hash64,
  firstSeen: number | null,
  lastSeen: number | null,
): Hash64 {
  // Dates enter as two 32-bit words each, so dates past 2106 still count in full;
  // a missing date is (0xffffffff, 0xffffffff), which no allowed date reaches.
  const firstHi = firstSeen === null ? NONE : Math.floor(firstSeen / 0x100000000);
  const firstLo = firstSeen === null ? NONE : firstSeen >>> 0;
  const lastHi = lastSeen === null ? NONE : Math.floor(lastSeen / 0x100000000);
  const lastLo = lastSeen === null ? NONE : lastSeen >>> 0;
  let a = mixWord(murmur3(key, SEED_A), attr[0]);
  a = mixWord(mixWord(mixWord(mixWord(a, firstHi), firstLo), lastHi), lastLo);
  let b = mixWord(murmur3(key, SEED_B), attr[1]);
  b = mixWord(mixWord(b, firstHi ^ 0x5a5a5a5a), firstLo ^ 0x5a5a5a5a);
  b = mixWord(mixWord(b, lastHi ^ 0xa5a5a5a5), lastLo ^ 0xa5a5a5a5);
  return [fmix(a), fmix(b)];
}

/** A running state checksum: two 32-bit lanes, each a sum modulo 2^32. */
export class StateChecksum {
  #a = 0;
  #b = 0;

  /** Starts from a checksum's hex text (`0000000000000000` is the empty state). */
  static fromHex(hex: string): StateChecksum {
    const sum = new StateChecksum();
    sum.#a = parseInt(hex.slice(0, 8), 16) >>> 0;
    sum.#b = parseInt(hex.slice(8, 16), 16) >>> 0;
    return sum;
  }

  add(h: Hash64): void {
    this.#a = (this.#a + h[0]) >>> 0;
    this.#b = (this.#b + h[1]) >>> 0;
  }

  subtract(h: Hash64): void {
    this.#a = (this.#a - h[0]) >>> 0;
    this.#b = (this.#b - h[1]) >>> 0;
  }

  /** 16 lower-case hex digits. */
  toHex(): string {
    return this.#a.toString(16).padStart(8, "0") + this.#b.toString(16).padStart(8, "0");
  }
}

/** The checksum of an empty state. */
export const EMPTY_CHECKSUM = "0000000000000000";
