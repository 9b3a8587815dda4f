/** What the `pksn feed` subcommands share: how failures read, and option helpers. */
import { AppError, quote, readNamedFile, UsageError } from "../core/mod.ts";
import { parseKeyFile, type SigningKey } from "../feed/mod.ts";
import {
  type Command,
  type CommandInput,
  type CommandSpec,
  defineCommand,
  type Options,
} from "./command.ts";

/**
 * A `pksn feed` command. A missing folder or a permission is the operator's to fix, so such
 * failures end in one line that names the command, not a stack trace.
 */
export function feedSubcommand<O extends Options>(spec: CommandSpec<O>): Command {
  return defineCommand({
    ...spec,
    async run(input: CommandInput<O>): Promise<number> {
      try {
        return await spec.run(input);
      } catch (err) {
        if (FILE_ERRORS.some((kind) => err instanceof kind)) {
          const message = `Cannot finish ${quote(input.words)}: ${(err as Error).message}`;
          throw new AppError("internal", "file_error", message, { cause: err });
        }
        throw err;
      }
    },
  });
}

const FILE_ERRORS = [
  Deno.errors.NotFound,
  Deno.errors.PermissionDenied,
  Deno.errors.AlreadyExists,
  Deno.errors.IsADirectory,
  Deno.errors.NotADirectory,
];

/** Option values as parseArgs gives them (repeatable ones are arrays). */
type Values = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** A required string option. */
export function requiredOption<V extends Values>(
  values: V,
  name: keyof V & string,
  command: string,
): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`Missing --${name}; see "pksn feed ${command} --help"`);
  }
  return value;
}

/** The values of a repeatable option, none if absent. */
export function listOption<V extends Values>(values: V, name: keyof V & string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

/** A whole-number option within `[min, max]`, or `fallback` when absent. */
export function intOption<V extends Values>(
  values: V,
  name: keyof V & string,
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
export async function readKeyFiles<V extends Values>(
  values: V,
  name: keyof V & string,
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
