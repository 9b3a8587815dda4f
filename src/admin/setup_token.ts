/**
 * The first-run setup token: 128 random bits that `serve` prints to its log when
 * no admin account exists. It lives only in this process's memory and works once,
 * so whoever can read the node's log (the operator) creates the first account,
 * not whoever reaches the port first.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { toHex } from "../core/mod.ts";

/** A single-use secret for `POST /admin/api/setup`. */
export class SetupToken {
  readonly #value: string;
  readonly #digest: Uint8Array;
  #used = false;

  constructor(value: string = randomToken()) {
    this.#value = value;
    this.#digest = sha256(value);
  }

  /** The token, to print once. */
  get value(): string {
    return this.#value;
  }

  /** Whether it has been used. */
  get used(): boolean {
    return this.#used;
  }

  /** Whether `candidate` is the token and it is still unused; does not use it up. */
  matches(candidate: string): boolean {
    // Comparing digests keeps the time independent of the candidate's length and content.
    return !this.#used && timingSafeEqual(sha256(candidate), this.#digest);
  }

  /** Uses the token up if `candidate` matches; returns whether it did. */
  consume(candidate: string): boolean {
    if (!this.matches(candidate)) return false;
    this.#used = true;
    return true;
  }
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return toHex(bytes);
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
