/** `pksn statement show|load` and `pksn participation show|set`: the operator's side of KSN participation. */
import { NODE_MODES, publishStatement, readStatement } from "../licences/mod.ts";
import { DATA_OPTIONS, loadConfig, parseCommand, UsageError } from "./args.ts";
import { cliActor, openLicenceContext } from "./licence_context.ts";
import { readNamedFile } from "../core/mod.ts";

/** Help text of `pksn statement`. */
export const STATEMENT_HELP = `Usage: pksn statement show | load FILE [options]

The KSN Statement that clients must accept before they look anything up. "show"
prints the current version and text; "load FILE" publishes FILE (UTF-8 text) as
the next version: every client must then accept it again.

Options: --data DIR --config FILE --json
`;

/** Help text of `pksn participation`. */
export const PARTICIPATION_HELP =
  `Usage: pksn participation show | set MODE [--accept-statement] [options]

The node's own participation decides what may leave the node for the upstream:
  with-statistics          look-ups, statistics and samples
  without-statistics       look-ups only
  save-statistics-to-file  nothing (statistics are kept in local files only)
  do-not-participate       nothing at all (the default)
Any mode but do-not-participate requires accepting the KSN Statement
(--accept-statement records the current version as accepted).

Options: --data DIR --config FILE --actor NAME --json
`;

/** Runs `pksn statement`. */
export async function statementCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(STATEMENT_HELP);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseCommand(`statement ${sub}`, rest, {
    ...DATA_OPTIONS,
    json: { type: "boolean" },
    actor: { type: "string" },
  });
  if (values.help) {
    console.log(STATEMENT_HELP);
    return 0;
  }
  const config = await loadConfig({
    config: values.config as string | undefined,
    dataDir: values.data as string | undefined,
  });
  using ctx = await openLicenceContext(config);
  if (sub === "show" && positionals.length === 0) {
    const current = readStatement(ctx.db)!;
    console.log(
      values.json
        ? JSON.stringify(current, null, 2)
        : `KSN Statement version ${current.version}, published ${current.publishedAt}\n\n${current.text}`,
    );
    return 0;
  }
  if (sub === "load" && positionals.length === 1) {
    const text = await readNamedFile(positionals[0], "", { kind: "usage", code: "usage" });
    const version = publishStatement(ctx.db, text, Date.now());
    ctx.participation.reload();
    console.log(
      `Published KSN Statement version ${version}; clients must accept it before their next look-up`,
    );
    return 0;
  }
  throw new UsageError('Usage: pksn statement show | load FILE; see "pksn statement --help"');
}

/** Runs `pksn participation`. */
export async function participationCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(PARTICIPATION_HELP);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseCommand(`participation ${sub}`, rest, {
    ...DATA_OPTIONS,
    json: { type: "boolean" },
    actor: { type: "string" },
    "accept-statement": { type: "boolean" },
  });
  if (values.help) {
    console.log(PARTICIPATION_HELP);
    return 0;
  }
  const config = await loadConfig({
    config: values.config as string | undefined,
    dataDir: values.data as string | undefined,
  });
  using ctx = await openLicenceContext(config);
  let state = ctx.participation.state;
  if (sub === "set" && positionals.length === 1) {
    state = ctx.participation.set(positionals[0], {
      acceptStatement: !!values["accept-statement"],
      actor: cliActor(values.actor as string | undefined),
    });
  } else if (sub !== "show" || positionals.length !== 0) {
    throw new UsageError(
      `Usage: pksn participation show | set MODE (${NODE_MODES.join(", ")}) [--accept-statement]`,
    );
  }
  const allowed = Object.entries(state.upstream).filter(([, on]) => on).map(([k]) => k);
  console.log(
    values.json ? JSON.stringify(state, null, 2) : [
      `Node participation: ${state.mode}`,
      `KSN Statement: ${
        state.statementAccepted
          ? `accepted (version ${state.statementAcceptedVersion})`
          : "not accepted"
      }; current version ${state.currentStatementVersion}`,
      `May go upstream: ${allowed.length ? allowed.join(", ") : "nothing"}`,
    ].join("\n"),
  );
  return 0;
}
