/** The configuration a command runs with: file, then environment, then command line. */
import {
  type Config,
  type ConfigLayer,
  ENV_KEYS,
  layerFromEnv,
  layerFromFile,
  layerFromFlags,
  readNamedFile,
  resolveConfig,
} from "../core/mod.ts";
import type { Options } from "./command.ts";

const CONFIG_FAILURE = { kind: "internal", code: "config_invalid" } as const;

/** Options of every command that works on the data folder. */
export const DATA_OPTIONS = {
  data: { type: "string" },
  config: { type: "string" },
} as const satisfies Options;

/**
 * Resolves the configuration from the file `--config` (or `PKSN_CONFIG`) names, the
 * environment, and `--data` with any other `flags` the command line gave.
 */
export async function loadConfig(
  values: { data?: string; config?: string },
  options: { flags?: ConfigLayer; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<Config> {
  const { flags = {}, env = readEnv() } = options;
  const layers: ConfigLayer[] = [];
  const path = values.config ?? (env.PKSN_CONFIG || undefined);
  if (path !== undefined) {
    const text = await readNamedFile(path, "configuration file", CONFIG_FAILURE);
    layers.push(layerFromFile(text, path));
  }
  layers.push(layerFromEnv(env));
  layers.push(layerFromFlags({ dataDir: values.data, ...flags }));
  return resolveConfig(...layers);
}

/**
 * The variables configuration reads, one by one: the appliance grants the program access to
 * these names only (`--allow-env=...`), not to the whole environment.
 */
export const CONFIG_ENV_NAMES: readonly string[] = ["PKSN_CONFIG", ...Object.keys(ENV_KEYS)];

function readEnv(): Record<string, string | undefined> {
  return Object.fromEntries(CONFIG_ENV_NAMES.map((name) => [name, Deno.env.get(name)]));
}
