/** `pksn license …`: the licence lifecycle from the service provider's side. */
import { AppError, InvalidInputError, quote } from "../errors.ts";
import {
  CLIENT_MODES,
  type ClientMode,
  type LicenceView,
  type NewLicence,
  parseDate,
  parseDuration,
} from "../licences/mod.ts";
import { headerColumns, parseCsvLine } from "../text/csv.ts";
import { readLines } from "../text/lines.ts";
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

function parseModes(text: string | undefined): ClientMode[] | undefined {
  if (text === undefined) return undefined;
  const modes = text.split(/[;,]/).map((m) => m.trim()).filter(Boolean);
  for (const mode of modes) {
    if (!(CLIENT_MODES as readonly string[]).includes(mode)) {
      throw new InvalidInputError(
        "invalid_mode",
        `Unknown participation mode ${quote(mode)}: expected ${CLIENT_MODES.join(", ")}`,
      );
    }
  }
  return modes as ClientMode[];
}

function parseQuota(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new InvalidInputError(
      "invalid_quota",
      `Invalid quota ${quote(text)}: expected a whole number of requests per minute, at least 1`,
    );
  }
  return Number(text);
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
          err.status,
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

const CSV_COLUMNS = ["key", "customer", "expires", "valid_from", "quota", "modes", "notes"];

/** Reads a licence CSV; every bad line is reported together, with its number. */
async function readLicenceCsv(path: string): Promise<{ line: number; licence: NewLicence }[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw new InvalidInputError(
      "unreadable",
      `Cannot read ${quote(path)}: ${(err as Error).message}`,
    );
  }
  let columns: Map<string, number> | undefined;
  const out: { line: number; licence: NewLicence }[] = [];
  const errors: string[] = [];
  for await (const { number, text, error } of readLines(file.readable)) {
    try {
      if (error !== undefined) throw new InvalidInputError("invalid_csv", error);
      if (text.trim() === "") continue;
      const fields = parseCsvLine(text);
      if (columns === undefined) {
        columns = headerColumns(fields);
        const unknown = [...columns.keys()].filter((c) => !CSV_COLUMNS.includes(c));
        if (unknown.length) {
          throw new InvalidInputError(
            "invalid_csv",
            `unknown column ${quote(unknown[0])}; allowed: ${CSV_COLUMNS.join(", ")}`,
          );
        }
        for (const required of ["key", "customer", "expires"]) {
          if (!columns.has(required)) {
            throw new InvalidInputError(
              "invalid_csv",
              `header lacks the ${quote(required)} column`,
            );
          }
        }
        continue;
      }
      const cell = (name: string): string | undefined => {
        const i = columns!.get(name);
        const v = i === undefined ? undefined : fields[i]?.trim();
        return v === "" ? undefined : v;
      };
      const key = cell("key");
      const customer = cell("customer");
      const expires = cell("expires");
      if (!key || !customer || !expires) {
        throw new InvalidInputError("invalid_csv", "key, customer and expires are required");
      }
      const validFrom = cell("valid_from");
      out.push({
        line: number,
        licence: {
          key,
          customer,
          expires: parseDate(expires, "expires", true),
          validFrom: validFrom === undefined ? undefined : parseDate(validFrom, "valid_from"),
          quota: parseQuota(cell("quota")),
          modes: parseModes(cell("modes")),
          notes: cell("notes") ?? null,
        },
      });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      errors.push(`${path}:${number}: ${err.message}`);
      if (columns === undefined) break;
    }
  }
  if (columns === undefined && errors.length === 0) errors.push(`${path}: the file is empty`);
  if (errors.length) {
    throw new InvalidInputError(
      "invalid_csv",
      `${errors.join("\n")}\nNothing imported: ${errors.length} line(s) have errors`,
    );
  }
  return out;
}
