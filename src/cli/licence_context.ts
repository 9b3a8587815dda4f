/** Opening what the operator commands for licences, statement and participation need. */
import { type Config, createLogger, systemClock } from "../core/mod.ts";
import { type Command, type CommandInput, defineCommand, type Options } from "./command.ts";
import { loadConfig } from "./load_config.ts";
import { openStore } from "../node/mod.ts";
import { type DatabaseSync, LicenceRepository } from "../store/mod.ts";
import {
  ensureStatement,
  LicenceService,
  loadOrCreateSecret,
  NodeParticipation,
} from "../licences/mod.ts";

/** An open database with the licence services; close it when done. */
export interface LicenceContext extends Disposable {
  db: DatabaseSync;
  licences: LicenceService;
  participation: NodeParticipation;
}

/** Opens the data folder's database and the licence services over it. */
export async function openLicenceContext(config: Config): Promise<LicenceContext> {
  const log = createLogger(config.log.level);
  const db = await openStore(config.dataDir, { cacheMiB: 8, log });
  try {
    const secret = await loadOrCreateSecret(config.dataDir, db);
    await ensureStatement(db, systemClock.now());
    const licences = new LicenceService({
      db,
      licences: new LicenceRepository(db),
      secret,
      clock: systemClock,
    });
    return {
      db,
      licences,
      participation: new NodeParticipation(db, systemClock),
      [Symbol.dispose](): void {
        db.close();
      },
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Who the audit log names for a CLI change: `--actor`, else the OS user. */
export function cliActor(actor: string | undefined): string {
  if (actor) return `cli:${actor}`;
  return `cli:${Deno.env.get("SUDO_USER") || Deno.env.get("USER") || "unknown"}`;
}

/** Reads standard input's lines, for keys passed as "-" (kept off the command line). */
export async function stdinLines(): Promise<string[]> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/**
 * A sub-command of a group whose commands all take `options` and open the data folder's
 * licences before they look at their arguments (`pksn statement`, `pksn participation`).
 */
export function licenceSubcommand<O extends Options>(
  options: O,
  text: { name: string; summary: string },
  run: (input: CommandInput<O>, ctx: LicenceContext) => Promise<number>,
): Command {
  return defineCommand({
    ...text,
    options,
    positionals: true,
    async run(input: CommandInput<O>): Promise<number> {
      const values = input.values as { data?: string; config?: string };
      using ctx = await openLicenceContext(await loadConfig(values));
      return await run(input, ctx);
    },
  });
}
