/**
 * The authenticator's memory of keys: verified keys with their licence rows, and well-formed
 * keys known not to be registered. Both are bounded, in entries and (estimated) bytes, and
 * drop their oldest first, so no stream of keys, however many or varied, can grow them.
 * Private to licences/.
 */
import { MAX_KEY_LENGTH } from "./keys.ts";

// Verified keys, by their normal form: only the number of licences in use fills it.
const MAX_KEYS = 50_000;
const MAX_BYTES = 16 * 1024 * 1024;
// Guessing cannot make every request hash and query; never holds a malformed key.
const MAX_UNKNOWN_KEYS = 10_000;
// What an unknown key costs: a string of up to 128 characters and a Set slot.
const UNKNOWN_KEY_BYTES = 2 * MAX_KEY_LENGTH + 64;

/** Bounded maps of keys (in normal form) to what is known about them. */
export class KeyCache<T extends object> {
  readonly #size: (key: string, value: T) => number;
  #known = new Map<string, T>();
  #knownBytes = 0;
  #unknown = new Set<string>();

  /** `size` estimates a verified entry's bytes. */
  constructor(size: (key: string, value: T) => number) {
    this.#size = size;
  }

  /** What is known of a key: its entry, `null` when known to be unregistered, else undefined. */
  get(key: string): T | null | undefined {
    const value = this.#known.get(key);
    if (value !== undefined) return value;
    return this.#unknown.has(key) ? null : undefined;
  }

  /** Remembers a verified key. */
  setKnown(key: string, value: T): void {
    const bytes = this.#size(key, value);
    // Oldest first: a Map iterates in insertion order.
    for (const [oldKey, old] of this.#known) {
      if (this.#known.size < MAX_KEYS && this.#knownBytes + bytes <= MAX_BYTES) break;
      this.#known.delete(oldKey);
      this.#knownBytes -= this.#size(oldKey, old);
    }
    this.#known.set(key, value);
    this.#knownBytes += bytes;
  }

  /** Remembers a well-formed key that is not registered. */
  setUnknown(key: string): void {
    if (this.#unknown.size >= MAX_UNKNOWN_KEYS) {
      this.#unknown.delete(this.#unknown.values().next().value!);
    }
    this.#unknown.add(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#known = new Map();
    this.#knownBytes = 0;
    this.#unknown = new Set();
  }

  /** Entries and estimated bytes held. */
  get size(): { keys: number; unknownKeys: number; bytes: number } {
    return {
      keys: this.#known.size,
      unknownKeys: this.#unknown.size,
      bytes: this.#knownBytes + this.#unknown.size * UNKNOWN_KEY_BYTES,
    };
  }
}
