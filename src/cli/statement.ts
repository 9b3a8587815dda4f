/** `pksn statement show|load`: the KSN Statement clients must accept. */
import { readNamedFile, UsageError } from "../core/mod.ts";
import { publishStatement, readStatement } from "../licences/mod.ts";
import { type Command, type CommandInput, defineGroup, type Options } from "./command.ts";
import { DATA_OPTIONS } from "./load_config.ts";
import { type LicenceContext, licenceSubcommand } from "./licence_context.ts";

const STATEMENT_HELP = `Usage: pksn statement show | load FILE [options]

The KSN Statement that clients must accept before they look anything up. "show"
prints the current version and text; "load FILE" publishes FILE (UTF-8 text) as
the next version: every client must then accept it again.

Options: --data DIR --config FILE --json
`;

const STATEMENT_USAGE = 'Usage: pksn statement show | load FILE; see "pksn statement --help"';

const STATEMENT_OPTIONS = {
  ...DATA_OPTIONS,
  json: { type: "boolean" },
  actor: { type: "string" },
} as const satisfies Options;

type StatementInput = CommandInput<typeof STATEMENT_OPTIONS>;

/** `pksn statement …`. */
export const statementCommand: Command = defineGroup({
  name: "statement",
  summary: "show or publish the KSN Statement clients must accept",
  help: STATEMENT_HELP,
  commands: [
    licenceSubcommand(
      STATEMENT_OPTIONS,
      { name: "show", summary: "the current version and text" },
      show,
    ),
    licenceSubcommand(STATEMENT_OPTIONS, {
      name: "load",
      summary: "publish FILE as the next version",
    }, load),
  ],
  // Any other word takes the options too and opens the data folder before it is refused.
  otherwise: (word) =>
    licenceSubcommand(STATEMENT_OPTIONS, { name: word, summary: "" }, () => {
      throw new UsageError(STATEMENT_USAGE);
    }),
});

function show({ values, positionals }: StatementInput, ctx: LicenceContext): Promise<number> {
  if (positionals.length !== 0) throw new UsageError(STATEMENT_USAGE);
  const current = readStatement(ctx.db)!;
  console.log(
    values.json
      ? JSON.stringify(current, null, 2)
      : `KSN Statement version ${current.version}, published ${current.publishedAt}\n\n${current.text}`,
  );
  return Promise.resolve(0);
}

async function load({ positionals }: StatementInput, ctx: LicenceContext): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(STATEMENT_USAGE);
  const text = await readNamedFile(positionals[0], "", { kind: "usage", code: "usage" });
  const version = publishStatement(ctx.db, text, Date.now());
  ctx.participation.reload();
  console.log(
    `Published KSN Statement version ${version}; clients must accept it before their next look-up`,
  );
  return 0;
}
