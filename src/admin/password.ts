/**
 * Admin password hashing: PBKDF2-SHA-256 through WebCrypto, stored as one
 * self-describing string `pbkdf2-sha256$ITERATIONS$SALT$HASH` (standard base64),
 * so the cost can be raised later without breaking stored hashes.
 */
import { timingSafeEqual } from "node:crypto";
import { fromBase64, InvalidInputError, toBase64 } from "../core/mod.ts";

/** PBKDF2 rounds for new hashes (OWASP's 2023 figure for PBKDF2-HMAC-SHA-256). */
export const PBKDF2_ITERATIONS = 600_000;
/** The shortest password accepted. */
export const MIN_PASSWORD_LENGTH = 12;
/** The longest password accepted; longer ones only cost hashing time. */
export const MAX_PASSWORD_LENGTH = 1024;

const SCHEME = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds for stored iteration counts, so a tampered row cannot make a login spin for hours.
const MAX_ITERATIONS = 10_000_000;

/** Throws 400 `password_too_weak` unless `password` meets the minimum policy. */
export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new InvalidInputError(
      "password_too_weak",
      `Password is too short: use at least ${MIN_PASSWORD_LENGTH} characters, got ${length}`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new InvalidInputError(
      "password_too_weak",
      `Password is too long: use at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
}

/** Hashes `password` with a fresh random salt; returns the storable string. */
export async function hashPassword(
  password: string,
  iterations: number = PBKDF2_ITERATIONS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/**
 * Whether `password` matches the stored string. A malformed stored string never
 * matches; the comparison of the hashes takes the same time wherever they differ.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== SCHEME || !/^\d{1,8}$/.test(parts[1])) return false;
  const iterations = Number(parts[1]);
  if (iterations < 1 || iterations > MAX_ITERATIONS) return false;
  let salt: Uint8Array;
  let expected: Uint8Array;
  try {
    salt = fromBase64(parts[2]);
    expected = fromBase64(parts[3]);
  } catch {
    return false;
  }
  if (salt.length === 0 || expected.length !== HASH_BYTES) return false;
  const actual = await derive(password, salt, iterations);
  return timingSafeEqual(actual, expected);
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}
