/** `pksn rpz export`: the RPZ zone of listed domains as a file a resolver loads. */
import { AppError, createLogger, quote, UsageError } from "../core/mod.ts";
import { writeRpzFile } from "../dns/mod.ts";
import { readMirrorState } from "../feed/mod.ts";
import { openStore } from "../node/mod.ts";
import {
  type Command,
  type CommandInput,
  defineCommand,
  defineGroup,
  type Options,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const OPTIONS = {
  ...DATA_OPTIONS,
  out: { type: "string" },
  zone: { type: "string" },
  ips: { type: "boolean" },
} as const satisfies Options;

const exportCommand: Command = defineCommand({
  name: "export",
  summary: "write the RPZ zone to a file",
  help: `Usage: pksn rpz export --out FILE [--zone NAME] [--ips] [options]

Writes the Response Policy Zone of this node's data as a zone file: every
malicious and phishing domain of the mirror and of local overrides as
"NAME CNAME ." and "*.NAME CNAME ." (NXDOMAIN for it and its subdomains), every
local clean override as "CNAME rpz-passthru." (answered as usual). With --ips
(or dns.rpzIps) malicious and phishing IP networks are listed too, as rpz-ip
triggers. The SOA serial is the mirror version, as the node's zone transfers
give it. The file is written beside FILE and renamed over it when complete.

Options:
  --out FILE          the zone file to write (required)
  --zone NAME         the zone's name (default dns.rpzZone, else rpz.pksn.invalid)
  --ips               list IP networks too (default dns.rpzIps)
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help

Example:
  pksn rpz export --out /etc/unbound/pksn.rpz --zone rpz.isp.example
`,
  options: OPTIONS,
  run: exportZone,
});

/** `pksn rpz …`. */
export const rpzCommand: Command = defineGroup({
  name: "rpz",
  synopsis: "rpz export",
  summary: "the RPZ zone for resolvers",
  help: 'Usage: pksn rpz export --out FILE [options]\n\nRun "pksn rpz export --help" for details.',
  commands: [exportCommand],
});

const ZONE = /^(?=.{1,200}$)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?$/;

async function exportZone({ values }: CommandInput<typeof OPTIONS>): Promise<number> {
  if (values.out === undefined || values.out === "") {
    throw new UsageError("Give --out FILE, the zone file to write");
  }
  if (values.zone !== undefined && !ZONE.test(values.zone)) {
    throw new UsageError(
      `Invalid --zone ${quote(values.zone)}: expected a DNS name such as rpz.isp.example`,
    );
  }
  const config = await loadConfig(values);
  const zone = (values.zone ?? config.dns.rpzZone ?? "rpz.pksn.invalid").toLowerCase().replace(
    /\.$/,
    "",
  );
  const db = await openStore(config.dataDir, { cacheMiB: 8, log: createLogger("warn") });
  const temporary = `${values.out}.tmp-${Deno.pid}`;
  try {
    const file = await Deno.open(temporary, {
      write: true,
      create: true,
      truncate: true,
      mode: 0o644,
    });
    let report;
    try {
      report = await writeRpzFile(db, file, {
        zone,
        ips: values.ips === true || config.dns.rpzIps,
        ttl: config.dns.rpzTtl,
        version: readMirrorState(db).version,
      });
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temporary, values.out);
    console.log(
      `Wrote the RPZ zone ${quote(zone)} serial ${report.serial} to ${quote(values.out)}: ` +
        `${report.blocked} blocked, ${report.passed} passed through` +
        (report.skipped > 0 ? `, ${report.skipped} left out (name too long for DNS)` : ""),
    );
    return 0;
  } catch (err) {
    await Deno.remove(temporary).catch(() => {});
    if (err instanceof AppError) throw err;
    throw new AppError(
      "unavailable",
      "cannot_write",
      `Cannot write ${quote(values.out)}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  } finally {
    db.close();
  }
}
