/** `pksn license …`: the licence lifecycle from the service provider's side. */
import { AppError, quote } from "../core/mod.ts";
import {
  CLIENT_MODES,
  type LicenceView,
  parseDate,
  parseDuration,
  parseModes,
  parseQuota,
  readLicenceCsv,
} from "../licences/mod.ts";
import { DATA_OPTIONS, loadConfig, parseCommand, UsageError } from "./args.ts";
import { cliActor, openLicenceContext, stdinLines } from "./licence_context.ts";

/** Help text of `pksn license`. */
export const LICENSE_HELP = `Usage: pksn license COMMAND [options]

Manages the licence keys of the customers this node serves. Keys are stored only
as a keyed hash; a generated key is printed once and cannot be shown again.
Changes take effect on a running node within a second.

Commands:
  add --customer NAME --expires YYYY-MM-DD [--key KEY|-] [--quota N]
      [--valid-from YYYY-MM-DD] [--modes M1,M2] [--notes TEXT]
                    register a licence; without --key a strong key is generated
  list              all licences with their status
  show ID|KEY       one licence
  revoke ID|KEY [--reason TEXT]
                    revoke at once
  rotate OLD NEW --grace 14d [--expires YYYY-MM-DD]
                    register the renewed key NEW (or "-" to generate) and keep
                    OLD valid until the grace period ends
  import FILE.csv   register a customer's keys: CSV with a header row naming
                    key, customer, expires and optionally valid_from, quota,
                    modes (separated by ";"), notes; all or nothing
  audit [--limit N] the audit log (who changed what, when; never keys)

A key given as "-" is read from standard input, which keeps it out of the
process list and shell history. --expires names the last day the licence is
valid (UTC). Modes: ${CLIENT_MODES.join(", ")}.

Options for every command:
  --data DIR --config FILE --actor NAME (who the audit log names) --json
`;

const OPTIONS = {
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
} as const;

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

/** Runs `pksn license`. */
export async function licenseCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(LICENSE_HELP);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseCommand(`license ${sub}`, rest, OPTIONS);
  if (values.help) {
    console.log(LICENSE_HELP);
    return 0;
  }
  const config = await loadConfig({
    config: values.config as string | undefined,
    dataDir: values.data as string | undefined,
  });
  const actor = cliActor(values.actor as string | undefined);
  const json = !!values.json;
  const print = (value: unknown, text: string): void => {
    console.log(json ? JSON.stringify(value, null, 2) : text);
  };
  const want = (n: number, usage: string): void => {
    if (positionals.length !== n) throw new UsageError(`Usage: pksn license ${usage}`);
  };
  using ctx = await openLicenceContext(config);
  switch (sub) {
    case "add": {
      want(0, "add --customer NAME --expires YYYY-MM-DD [--key KEY|-] [--quota N]");
      if (values.customer === undefined || values.expires === undefined) {
        throw new UsageError("license add needs --customer and --expires");
      }
      let key = values.key as string | undefined;
      if (key === "-") key = (await stdinLines())[0];
      const { licence, key: issued } = ctx.licences.add({
        customer: values.customer as string,
        expires: parseDate(values.expires as string, "--expires", true),
        validFrom: values["valid-from"] === undefined
          ? undefined
          : parseDate(values["valid-from"] as string, "--valid-from"),
        key,
        quota: parseQuota(values.quota as string | undefined),
        modes: parseModes(values.modes as string | undefined),
        notes: (values.notes as string | undefined) ?? null,
      }, actor);
      const shown = values.key === undefined ? issued : undefined;
      print(
        { licence, key: shown },
        `Registered licence #${licence.id} for ${
          quote(licence.customer)
        } (key id ${licence.keyId}), ` +
          `valid ${licence.validFrom} to ${licence.expires}` +
          (shown ? `\nLicence key (shown only now; give it to the customer): ${shown}` : ""),
      );
      return 0;
    }
    case "list": {
      want(0, "list");
      const all = ctx.licences.list();
      print(all, all.length ? all.map(describe).join("\n") : "No licences registered");
      return 0;
    }
    case "show": {
      want(1, "show ID|KEY");
      const ref = positionals[0] === "-" ? (await stdinLines())[0] ?? "" : positionals[0];
      const licence = ctx.licences.show(ref);
      print(licence, JSON.stringify(licence, null, 2));
      return 0;
    }
    case "revoke": {
      want(1, "revoke ID|KEY [--reason TEXT]");
      const ref = positionals[0] === "-" ? (await stdinLines())[0] ?? "" : positionals[0];
      const licence = ctx.licences.revoke(ref, actor, values.reason as string | undefined);
      print(licence, `Revoked licence #${licence.id} for ${quote(licence.customer)}`);
      return 0;
    }
    case "rotate": {
      want(2, 'rotate OLD NEW --grace 14d [--expires YYYY-MM-DD]   (NEW "-" generates)');
      if (values.grace === undefined) {
        throw new UsageError("license rotate needs --grace, e.g. 14d");
      }
      const [oldRef, newRef] = positionals;
      const piped = oldRef === "-" || newRef === "-" ? await stdinLines() : [];
      const oldKey = oldRef === "-" ? piped.shift() ?? "" : oldRef;
      const newKey = newRef === "-" ? piped.shift() : newRef;
      const result = ctx.licences.rotate(oldKey, newKey, {
        graceSeconds: parseDuration(values.grace as string, "--grace"),
        expires: values.expires === undefined
          ? undefined
          : parseDate(values.expires as string, "--expires", true),
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
    case "import": {
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
    case "audit": {
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
      return 0;
    }
    default:
      throw new UsageError(`Unknown command "license ${sub}"; see "pksn license --help"`);
  }
}
