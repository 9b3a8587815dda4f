/**
 * Configuration: one zod schema (config_schema.ts) that holds every setting's default, and one
 * precedence rule (config file < environment < command-line flags). The result is frozen and
 * has every field filled, so nothing downstream needs to guess a default.
 */
import { z } from "zod";
import { ConfigError, quote } from "./errors.ts";
import { closest } from "./suggest.ts";
import { type Config, type ConfigLayer, configSchema } from "./config_schema.ts";

export { parseListen } from "./config_schema.ts";
export type { Config, ConfigLayer } from "./config_schema.ts";

/** Built-in defaults: a node that works out of the box on loopback. */
export const DEFAULTS: Config = deepFreeze(configSchema.parse({}));

/**
 * The schema of one layer, read off `schema`: every field optional and without its default
 * (a default would fill fields the layer leaves to an earlier one), unknown keys refused.
 * Objects are rebuilt from their fields, which drops the checks across fields: those need
 * the merged result.
 */
function layerOf(schema: z.core.$ZodType): z.core.$ZodType {
  if (schema instanceof z.ZodDefault) return layerOf(schema.removeDefault());
  if (schema instanceof z.ZodPrefault) return layerOf(schema.unwrap());
  if (!(schema instanceof z.ZodObject)) return schema;
  const fields: Record<string, z.core.$ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape)) fields[key] = z.optional(layerOf(field));
  return z.strictObject(fields);
}

const layerSchema = layerOf(configSchema);

/** Environment variables and the config keys they set. */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  PKSN_LISTEN: "listen",
  PKSN_DATA: "dataDir",
  PKSN_LOG_LEVEL: "log.level",
  PKSN_TLS_CERT: "tls.cert",
  PKSN_TLS_KEY: "tls.key",
  PKSN_UPSTREAM_URL: "upstream.url",
  PKSN_UPSTREAM_KEY: "upstream.key",
  PKSN_SYNC_URL: "sync.url",
  PKSN_SYNC_KEY: "sync.key",
  PKSN_SYNC_ROOT: "sync.root",
};

/** The keys the configuration has under `path` (the top level for an empty path). */
function knownKeys(path: readonly string[]): string[] {
  let node: unknown = DEFAULTS;
  for (const part of path) node = (node as Record<string, unknown> | undefined)?.[part];
  return node !== null && typeof node === "object" ? Object.keys(node) : [];
}

function validateLayer(layer: unknown, sourceOf: (key: string) => string): ConfigLayer {
  const parsed = z.safeParse(layerSchema, layer);
  // layerOf keeps every field's own schema, so what passes has the schema's input type.
  if (parsed.success) return parsed.data as ConfigLayer;
  const issue = parsed.error.issues[0];
  const path = issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const key = [...issue.path, issue.keys[0]].join(".");
    const known = knownKeys(issue.path as string[]);
    const guess = closest(issue.keys[0], known);
    const hint = guess === undefined
      ? ""
      : `; did you mean ${quote([...issue.path, guess].join("."))}?`;
    throw new ConfigError(
      `Invalid configuration ${quote(key)} from ${sourceOf(key)}: unknown key${hint}`,
    );
  }
  const got = issue.path.reduce<unknown>(
    (v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    layer,
  );
  throw new ConfigError(
    `Invalid configuration ${quote(path || "(root)")} from ${sourceOf(path)}: ${issue.message}` +
      (got === undefined || SECRET_KEYS.has(path) ? "" : `, got ${JSON.stringify(got)}`),
  );
}

// Values never echoed in an error: they may hold a licence key or credentials.
const SECRET_KEYS: ReadonlySet<string> = new Set([
  "upstream.key",
  "upstream.url",
  "sync.key",
  "sync.url",
]);

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node = (node[part] ??= {}) as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

/** Reads the config layer from environment variables (`PKSN_*`). */
export function layerFromEnv(env: Readonly<Record<string, string | undefined>>): ConfigLayer {
  const layer: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== "") setPath(layer, key, value);
  }
  const nameOf = (key: string): string =>
    Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0] ?? key;
  return validateLayer(layer, (key) => `environment variable ${nameOf(key)}`);
}

/** Parses a config file's text; the error names the file and what is wrong. */
export function layerFromFile(text: string, path: string): ConfigLayer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration file ${quote(path)}: not JSON: ${(err as Error).message}`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`Invalid configuration file ${quote(path)}: expected a JSON object`);
  }
  return validateLayer(raw, () => `file ${quote(path)}`);
}

/** Validates flags given on the command line as a layer. */
export function layerFromFlags(flags: ConfigLayer): ConfigLayer {
  return validateLayer(flags, () => "the command line");
}

/**
 * Merges layers, later ones winning field by field, fills what none gives with its default
 * and freezes the result.
 */
export function resolveConfig(...layers: ConfigLayer[]): Config {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) assignDefined(merged, layer);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid configuration ${quote(issue.path.join("."))}: ${issue.message}`);
  }
  return deepFreeze(parsed.data);
}

/**
 * Copies `source`'s fields into `target`, section by section; a field given as undefined
 * leaves what an earlier layer set. Arrays are values, replaced whole.
 */
function assignDefined(target: Record<string, unknown>, source: object): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (!isSection(value)) {
      target[key] = value;
      continue;
    }
    const section = target[key];
    assignDefined(isSection(section) ? section : (target[key] = {}), value);
  }
}

function isSection(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
