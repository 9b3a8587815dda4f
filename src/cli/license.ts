/** `pksn license …`: the licence lifecycle from the service provider's side. */
import { AppError, quote, UsageError } from "../core/mod.ts";
import {
  CLIENT_MODES,
  type LicenceChanges,
  type LicenceView,
  parseDate,
  parseDuration,
  parseModes,
  parseQuota,
  readLicenceCsv,
} from "../licences/mod.ts";
import { type Command, defineGroup, listCommands, unknownCommand } from "./command.ts";
import { type LicenceRun, licenseSubcommand } from "./_license_run.ts";
import { stdinLines } from "./licence_context.ts";

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
    name: "edit",
    synopsis: "edit ID|KEY [--quota N|none] [--modes M1,M2] [--expires YYYY-MM-DD]\n" +
      "    [--notes TEXT]",
    summary: "change a licence's quota, modes, expiry or notes",
  }, edit),
  licenseSubcommand({
    name: "rotate",
    synopsis: "rotate ID|OLD NEW --grace 14d [--expires YYYY-MM-DD]",
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

async function edit(
  { values, positionals, ctx, actor, print, want }: LicenceRun,
): Promise<number> {
  want(1, "edit ID|KEY [--quota N|none] [--modes M1,M2] [--expires YYYY-MM-DD] [--notes TEXT]");
  const changes: LicenceChanges = {};
  if (values.quota !== undefined) {
    changes.quota = values.quota === "none" ? null : parseQuota(values.quota);
  }
  if (values.modes !== undefined) changes.modes = parseModes(values.modes);
  if (values.expires !== undefined) {
    changes.expires = parseDate(values.expires, "--expires", true);
  }
  if (values.notes !== undefined) changes.notes = values.notes === "" ? null : values.notes;
  if (Object.keys(changes).length === 0) {
    throw new UsageError("license edit needs at least one of --quota, --modes, --expires, --notes");
  }
  const licence = ctx.licences.update(await licenceRef(positionals[0]), changes, actor);
  print(
    licence,
    `Changed licence #${licence.id} for ${quote(licence.customer)}: ` +
      `valid to ${licence.expires}, quota ${licence.quota ?? "none"}, ` +
      `modes ${licence.modes.join(",")}${licence.notes ? `, notes ${quote(licence.notes)}` : ""}`,
  );
  return 0;
}

async function rotate(
  { values, positionals, ctx, actor, print, want }: LicenceRun,
): Promise<number> {
  want(2, 'rotate ID|OLD NEW --grace 14d [--expires YYYY-MM-DD]   (NEW "-" generates)');
  if (values.grace === undefined) {
    throw new UsageError("license rotate needs --grace, e.g. 14d");
  }
  const [oldRef, newRef] = positionals;
  const piped = oldRef === "-" || newRef === "-" ? await stdinLines() : [];
  const oldKey = oldRef === "-" ? piped.shift() ?? "" : oldRef;
  const newKey = newRef === "-" ? piped.shift() : newRef;
  const result = ctx.licences.rotateRef(oldKey, newKey, {
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
