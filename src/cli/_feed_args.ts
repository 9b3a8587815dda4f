/** Option helpers shared by the `pksn feed` subcommands. */
import { quote, readNamedFile } from "../core/mod.ts";
import { parseKeyFile, type SigningKey } from "../feed/mod.ts";
import { UsageError } from "./args.ts";

/** Parsed option values as `parseCommand` returns them (repeatable ones are arrays). */
export type FeedValues = Record<string, string | boolean | string[] | undefined>;

/** A required string option. */
export function requiredOption(values: FeedValues, name: string, command: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`Missing --${name}; see "pksn feed ${command} --help"`);
  }
  return value;
}

/** The values of a repeatable option, none if absent. */
export function listOption(values: FeedValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

/** A whole-number option within `[min, max]`, or `fallback` when absent. */
export function intOption(
  values: FeedValues,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || n < range.min || n > range.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max}, not ${
        quote(String(raw))
      }`,
    );
  }
  return n;
}

/**
 * Reads key files (at least one) named by a repeatable option; the same key
 * twice is refused, as it would count twice towards a threshold.
 */
export async function readKeyFiles(
  values: FeedValues,
  name: string,
  command: string,
): Promise<SigningKey[]> {
  const paths = listOption(values, name);
  if (paths.length === 0) {
    throw new UsageError(`Missing --${name} FILE; see "pksn feed ${command} --help"`);
  }
  const keys: SigningKey[] = [];
  for (const path of paths) {
    const text = await readNamedFile(path, "key file", { kind: "invalid", code: "unreadable" });
    const key = await parseKeyFile(text, `Key file ${quote(path)}`);
    if (keys.some((k) => k.keyid === key.keyid)) {
      throw new UsageError(`Key file ${quote(path)} holds a key given already for --${name}`);
    }
    keys.push(key);
  }
  return keys;
}
