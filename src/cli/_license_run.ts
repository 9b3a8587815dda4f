/**
 * What every `pksn license` command shares: its options, and the run that opens the data folder
 * before the command looks at its arguments.
 */
import { UsageError } from "../core/mod.ts";
import { type Command, defineCommand, type Options, type OptionValues } from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { cliActor, type LicenceContext, openLicenceContext } from "./licence_context.ts";

export const LICENSE_OPTIONS = {
  ...DATA_OPTIONS,
  actor: { type: "string" },
  json: { type: "boolean" },
  customer: { type: "string" },
  expires: { type: "string" },
  "valid-from": { type: "string" },
  key: { type: "string" },
  quota: { type: "string" },
  modes: { type: "string" },
  notes: { type: "string" },
  reason: { type: "string" },
  grace: { type: "string" },
  limit: { type: "string" },
} as const satisfies Options;

/** What a `pksn license` command works with once the data folder is open. */
export interface LicenceRun {
  values: OptionValues<typeof LICENSE_OPTIONS>;
  positionals: string[];
  ctx: LicenceContext;
  /** Who the audit log names. */
  actor: string;
  /** Prints `value` as JSON with --json, else `text`. */
  print(value: unknown, text: string): void;
  /** Refuses anything but `n` positional arguments, showing `usage`. */
  want(n: number, usage: string): void;
}

/**
 * A `pksn license` command: every one takes the same options, and opens the data folder
 * before it looks at its arguments.
 */
export function licenseSubcommand(
  text: { name: string; synopsis?: string; summary: string },
  run: (r: LicenceRun) => Promise<number>,
): Command {
  return defineCommand({
    ...text,
    options: LICENSE_OPTIONS,
    positionals: true,
    async run({ values, positionals }): Promise<number> {
      const config = await loadConfig(values);
      const actor = cliActor(values.actor);
      const json = !!values.json;
      using ctx = await openLicenceContext(config);
      return await run({
        values,
        positionals,
        ctx,
        actor,
        print(value: unknown, text: string): void {
          console.log(json ? JSON.stringify(value, null, 2) : text);
        },
        want(n: number, usage: string): void {
          if (positionals.length !== n) throw new UsageError(`Usage: pksn license ${usage}`);
        },
      });
    },
  });
}
