/** Shared command-line plumbing: option parsing, config resolution, usage errors. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  type Config,
  type ConfigLayer,
  layerFromEnv,
  layerFromFile,
  layerFromFlags,
  readNamedFile,
  resolveConfig,
  UsageError,
} from "../core/mod.ts";

const CONFIG_FAILURE = { kind: "internal", code: "config_invalid" } as const;

export { UsageError };

/** Options every command that touches the data folder accepts. */
export const DATA_OPTIONS = {
  data: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Parses `args` strictly; an unknown option is a {@link UsageError}. */
export function parseCommand<O extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = true,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals, strict: true });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; see "pksn ${command} --help"`);
  }
}

/** Resolves the configuration from `--config`/`PKSN_CONFIG`, the environment and flags. */
export async function loadConfig(
  flags: ConfigLayer & { config?: string },
  env: Readonly<Record<string, string | undefined>> = Deno.env.toObject(),
): Promise<Config> {
  const layers: ConfigLayer[] = [];
  const path = flags.config ?? (env.PKSN_CONFIG || undefined);
  if (path !== undefined) {
    const text = await readNamedFile(path, "configuration file", CONFIG_FAILURE);
    layers.push(layerFromFile(text, path));
  }
  layers.push(layerFromEnv(env));
  const { config: _, ...rest } = flags;
  layers.push(layerFromFlags(rest));
  return resolveConfig(...layers);
}
