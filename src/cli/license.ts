/** `pksn license …`: the licence lifecycle from the service provider's side. */
import { AppError, quote, UsageError } from "../core/mod.ts";
import {
  CLIENT_MODES,
  type LicenceView,
  parseDate,
  parseDuration,
  parseModes,
  parseQuota,
  readLicenceCsv,
} from "../licences/mod.ts";
import {
  type Command,
  defineCommand,
  defineGroup,
  listCommands,
  type Options,
  type OptionValues,
  unknownCommand,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import {
  cliActor,
  type LicenceContext,
  openLicenceContext,
  stdinLines,
} from "./licence_context.ts";

const LICENSE_OPTIONS = {
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
interface LicenceRun {
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
function licenseSubcommand(
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

const LICENCE_COMMANDS: readonly Command[] = [
  licenseSubcommand({
    name: "add",
    synopsis: "add --customer NAME --expires YYYY-MM-DD [--key KEY|-] [--quota N]\n" +
      "    [--valid-from YYYY-MM-DD] [--modes M1,M2] [--notes TEXT]",
    summary: "register a licence; without --key a strong key is generated",
  }, add),
  licenseSubcommand({ name: "list", summary: "all licences with their status" }, list),
  licenseSubcommand({ name: "show", synopsis: "show ID|KEY", summary: "one licence" }, show),
  licenseSubcommand({
    name: "revoke",
    synopsis: "revoke ID|KEY [--reason TEXT]",
    summary: "revoke at once",
  }, revoke),
  licenseSubcommand({
    name: "rotate",
    synopsis: "rotate OLD NEW --grace 14d [--expires YYYY-MM-DD]",
    summary: 'register the renewed key NEW (or "-" to generate) and keep\n' +
      "OLD valid until the grace period ends",
  }, rotate),
  licenseSubcommand({
    name: "import",
    synopsis: "import FILE.csv",
    summary: "register a customer's keys: CSV with a header row naming\n" +
      "key, customer, expires and optionally valid_from, quota,\n" +
      'modes (separated by ";"), notes; all or nothing',
  }, importCsv),
  licenseSubcommand({
    name: "audit",
    synopsis: "audit [--limit N]",
    summary: "the audit log (who changed what, when; never keys)",
  }, audit),
];

/** Help text of `pksn license`. */
const LICENSE_HELP = `Usage: pksn license COMMAND [options]

Manages the licence keys of the customers this node serves. Keys are stored only
as a keyed hash; a generated key is printed once and cannot be shown again.
Changes take effect on a running node within a second.

Commands:
${listCommands(LICENCE_COMMANDS, 20)}

A key given as "-" is read from standard input, which keeps it out of the
process list and shell history. --expires names the last day the licence is
valid (UTC). Modes: ${CLIENT_MODES.join(", ")}.

Options for every command:
  --data DIR --config FILE --actor NAME (who the audit log names) --json
`;

/** `pksn license …`: the licence lifecycle. */
export const licenseCommand: Command = defineGroup({
  name: "license",
  summary: "register, list, revoke, rotate and import customers' licence keys",
  help: LICENSE_HELP,
  commands: LICENCE_COMMANDS,
  // Any other word takes the options too (so --help after it shows this help) and opens the
  // data folder before it is refused, as it always has.
  otherwise: (word) =>
    licenseSubcommand({ name: word, summary: "" }, () => {
      throw unknownCommand("license", word);
    }),
});

async function add({ values, ctx, actor, print, want }: LicenceRun): Promise<number> {
  want(0, "add --customer NAME --expires YYYY-MM-DD [--key KEY|-] [--quota N]");
  if (values.customer === undefined || values.expires === undefined) {
    throw new UsageError("license add needs --customer and --expires");
  }
  let key = values.key;
  if (key === "-") key = (await stdinLines())[0];
  const { licence, key: issued } = ctx.licences.add({
    customer: values.customer,
    expires: parseDate(values.expires, "--expires", true),
    validFrom: values["valid-from"] === undefined
      ? undefined
      : parseDate(values["valid-from"], "--valid-from"),
    key,
    quota: parseQuota(values.quota),
    modes: parseModes(values.modes),
    notes: values.notes ?? null,
  }, actor);
  const shown = values.key === undefined ? issued : undefined;
  print(
    { licence, key: shown },
    `Registered licence #${licence.id} for ${quote(licence.customer)} (key id ${licence.keyId}), ` +
      `valid ${licence.validFrom} to ${licence.expires}` +
      (shown ? `\nLicence key (shown only now; give it to the customer): ${shown}` : ""),
  );
  return 0;
}

function list({ ctx, print, want }: LicenceRun): Promise<number> {
  want(0, "list");
  const all = ctx.licences.list();
  print(all, all.length ? all.map(describe).join("\n") : "No licences registered");
  return Promise.resolve(0);
}

async function show({ positionals, ctx, print, want }: LicenceRun): Promise<number> {
  want(1, "show ID|KEY");
  const licence = ctx.licences.show(await licenceRef(positionals[0]));
  print(licence, JSON.stringify(licence, null, 2));
  return 0;
}

async function revoke(
  { values, positionals, ctx, actor, print, want }: LicenceRun,
): Promise<number> {
  want(1, "revoke ID|KEY [--reason TEXT]");
  const licence = ctx.licences.revoke(await licenceRef(positionals[0]), actor, values.reason);
  print(licence, `Revoked licence #${licence.id} for ${quote(licence.customer)}`);
  return 0;
}

async function rotate(
  { values, positionals, ctx, actor, print, want }: LicenceRun,
): Promise<number> {
  want(2, 'rotate OLD NEW --grace 14d [--expires YYYY-MM-DD]   (NEW "-" generates)');
  if (values.grace === undefined) {
    throw new UsageError("license rotate needs --grace, e.g. 14d");
  }
  const [oldRef, newRef] = positionals;
  const piped = oldRef === "-" || newRef === "-" ? await stdinLines() : [];
  const oldKey = oldRef === "-" ? piped.shift() ?? "" : oldRef;
  const newKey = newRef === "-" ? piped.shift() : newRef;
  const result = ctx.licences.rotate(oldKey, newKey, {
    graceSeconds: parseDuration(values.grace, "--grace"),
    expires: values.expires === undefined
      ? undefined
      : parseDate(values.expires, "--expires", true),
  }, actor);
  const shown = newKey === undefined ? result.key : undefined;
  print(
    { old: result.old, renewed: result.renewed, key: shown },
    `Registered renewed licence #${result.renewed.id} (key id ${result.renewed.keyId}); ` +
      `the old key #${result.old.id} stays valid until ${result.old.graceUntil}` +
      (shown ? `\nNew licence key (shown only now): ${shown}` : ""),
  );
  return 0;
}

async function importCsv({ positionals, ctx, actor, print, want }: LicenceRun): Promise<number> {
  want(1, "import FILE.csv");
  const rows = await readLicenceCsv(positionals[0]);
  let added: LicenceView[];
  try {
    added = ctx.licences.addMany(rows, actor);
  } catch (err) {
    // addMany says "Line N: ..."; name the file as the other import errors do.
    if (!(err instanceof AppError)) throw err;
    throw new AppError(
      err.kind,
      err.code,
      `${
        err.message.replace(/^Line (\d+): /, `${positionals[0]}:$1: `)
      }\nNothing imported: 1 line has errors`,
    );
  }
  print(added, `Registered ${added.length} licences from ${quote(positionals[0])}`);
  return 0;
}

function audit({ values, ctx, print, want }: LicenceRun): Promise<number> {
  want(0, "audit [--limit N]");
  const limit = Number(values.limit ?? 100);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError("--limit must be a whole number");
  }
  const entries = ctx.licences.auditLog(limit);
  print(
    entries,
    entries.map((e) =>
      `${e.at}  ${e.actor.padEnd(16)} ${e.action.padEnd(20)} ${e.licenceId ?? "-"}  ${
        JSON.stringify(e.detail)
      }`
    ).join("\n") || "The audit log is empty",
  );
  return Promise.resolve(0);
}

/** A licence id or key; "-" reads the key from standard input. */
async function licenceRef(ref: string): Promise<string> {
  return ref === "-" ? (await stdinLines())[0] ?? "" : ref;
}

function describe(l: LicenceView): string {
  const parts = [
    `#${l.id}`.padEnd(6),
    l.keyId,
    l.status.padEnd(13),
    `until ${l.graceUntil && l.graceUntil < l.expires ? l.graceUntil : l.expires}`,
    `quota ${l.quota ?? "-"}`.padEnd(11),
    `participation ${l.participation ? l.participation.mode : "-"}`,
    quote(l.customer),
  ];
  return parts.join("  ");
}
