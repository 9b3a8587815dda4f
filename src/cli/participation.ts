/** `pksn participation show|set`: what this node may send upstream. */
import { UsageError } from "../core/mod.ts";
import { NODE_MODES, type NodeParticipationState } from "../licences/mod.ts";
import { type Command, type CommandInput, defineGroup, type Options } from "./command.ts";
import { DATA_OPTIONS } from "./load_config.ts";
import { cliActor, type LicenceContext, licenceSubcommand } from "./licence_context.ts";

const PARTICIPATION_HELP = `Usage: pksn participation show | set MODE [--accept-statement] [options]

The node's own participation decides what may leave the node for the upstream:
  with-statistics          look-ups, statistics and samples
  without-statistics       look-ups only
  save-statistics-to-file  nothing (statistics are kept in local files only)
  do-not-participate       nothing at all (the default)
Any mode but do-not-participate requires accepting the KSN Statement
(--accept-statement records the current version as accepted).

Options: --data DIR --config FILE --actor NAME --json
`;

const PARTICIPATION_USAGE = `Usage: pksn participation show | set MODE (${
  NODE_MODES.join(", ")
}) [--accept-statement]`;

const PARTICIPATION_OPTIONS = {
  ...DATA_OPTIONS,
  json: { type: "boolean" },
  actor: { type: "string" },
  "accept-statement": { type: "boolean" },
} as const satisfies Options;

type ParticipationInput = CommandInput<typeof PARTICIPATION_OPTIONS>;

/** `pksn participation …`. */
export const participationCommand: Command = defineGroup({
  name: "participation",
  summary: "show or set what this node may send upstream",
  help: PARTICIPATION_HELP,
  commands: [
    licenceSubcommand(PARTICIPATION_OPTIONS, {
      name: "show",
      summary: "the node's mode and what may go upstream",
    }, show),
    licenceSubcommand(
      PARTICIPATION_OPTIONS,
      { name: "set", summary: "choose the node's mode" },
      set,
    ),
  ],
  // Any other word takes the options too and opens the data folder before it is refused.
  otherwise: (word) =>
    licenceSubcommand(PARTICIPATION_OPTIONS, { name: word, summary: "" }, () => {
      throw new UsageError(PARTICIPATION_USAGE);
    }),
});

function show({ values, positionals }: ParticipationInput, ctx: LicenceContext): Promise<number> {
  if (positionals.length !== 0) throw new UsageError(PARTICIPATION_USAGE);
  printState(ctx.participation.state, !!values.json);
  return Promise.resolve(0);
}

function set({ values, positionals }: ParticipationInput, ctx: LicenceContext): Promise<number> {
  if (positionals.length !== 1) throw new UsageError(PARTICIPATION_USAGE);
  const state = ctx.participation.set(positionals[0], {
    acceptStatement: !!values["accept-statement"],
    actor: cliActor(values.actor),
  });
  printState(state, !!values.json);
  return Promise.resolve(0);
}

function printState(state: Readonly<NodeParticipationState>, json: boolean): void {
  const allowed = Object.entries(state.upstream).filter(([, on]) => on).map(([k]) => k);
  console.log(
    json ? JSON.stringify(state, null, 2) : [
      `Node participation: ${state.mode}`,
      `KSN Statement: ${
        state.statementAccepted
          ? `accepted (version ${state.statementAcceptedVersion})`
          : "not accepted"
      }; current version ${state.currentStatementVersion}`,
      `May go upstream: ${allowed.length ? allowed.join(", ") : "nothing"}`,
    ].join("\n"),
  );
}
