/** Shared command-line plumbing: option parsing, config resolution, usage errors. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  type Config,
  type ConfigLayer,
  layerFromEnv,
  layerFromFile,
  layerFromFlags,
  resolveConfig,
} from "../core/config.ts";
import { AppError, ConfigError, quote } from "../core/errors.ts";

/** A wrong command line: exit code 2 and a pointer to `--help`. */
export class UsageError extends AppError {
  constructor(message: string) {
    super(400, "usage", message);
    this.name = "UsageError";
  }
}

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
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      throw new ConfigError(
        `Cannot read configuration file ${quote(path)}: ${(err as Error).message}`,
      );
    }
    layers.push(layerFromFile(text, path));
  }
  layers.push(layerFromEnv(env));
  const { config: _, ...rest } = flags;
  layers.push(layerFromFlags(rest));
  return resolveConfig(...layers);
}
