/** Licence keys: their accepted form and generation of strong new ones. */
import { InvalidInputError } from "../core/mod.ts";

// Crockford's base32: no I, L, O, U, so a key read aloud or retyped survives.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const KEY_FORM = /^[A-Z0-9][A-Z0-9-]{6,126}[A-Z0-9]$/;

/** The longest licence key, in characters. */
export const MAX_KEY_LENGTH = 128;

/**
 * The normal form of a key as {@link normalizeKey} gives it, or null when the text is not a
 * key; never throws, and costs nothing for text longer than any key.
 */
export function keyOrNull(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed.length > MAX_KEY_LENGTH || trimmed.length < 8) return null;
  const key = trimmed.toUpperCase();
  return KEY_FORM.test(key) ? key : null;
}

/**
 * Normalises a key as clients and operators type it: surrounding space removed,
 * upper case. Keys are 8 to 128 letters, digits and inner dashes.
 */
export function normalizeKey(text: string): string {
  const key = text.trim().toUpperCase();
  if (!KEY_FORM.test(key)) {
    // The key itself is never echoed: error messages end up in logs.
    throw new InvalidInputError(
      "invalid_license_key",
      `Invalid licence key (${key.length} characters): expected 8 to 128 letters, digits and inner dashes`,
    );
  }
  return key;
}

/** A new random key, `PKSN-` and five groups of five base32 characters (125 bits). */
export function generateKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(25));
  const groups: string[] = [];
  for (let g = 0; g < 5; g++) {
    let group = "";
    for (let i = 0; i < 5; i++) group += ALPHABET[bytes[g * 5 + i] & 31];
    groups.push(group);
  }
  return `PKSN-${groups.join("-")}`;
}
