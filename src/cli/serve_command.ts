/** `pksn serve`: run the node's HTTP API until SIGINT or SIGTERM. */
import { createLogger, systemClock } from "../core/mod.ts";
import { NetworkList } from "../reputation/mod.ts";
import { lockDataDir } from "../store/mod.ts";
import { type Command, type CommandInput, defineCommand, type Options } from "./command.ts";
import { printDemoHint } from "./demo_hint.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { serveNode, tlsOf } from "./serve.ts";

const SERVE_HELP = `Usage: pksn serve [options]

Runs the node: the look-up API, metrics and health checks.

Options:
  --listen HOST:PORT  address to listen on (env PKSN_LISTEN; default 127.0.0.1:8080)
  --data DIR          data folder, created if missing (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  --tls-cert FILE     serve HTTPS with this PEM certificate chain (env PKSN_TLS_CERT)
  --tls-key FILE      and this PEM private key (env PKSN_TLS_KEY)
  --demo              seed the labelled demo data set into an empty database
  -h, --help          show this help
`;

const SERVE_OPTIONS = {
  ...DATA_OPTIONS,
  listen: { type: "string" },
  demo: { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
} as const satisfies Options;

/** `pksn serve`. */
export const serveCommand: Command = defineCommand({
  name: "serve",
  summary: "run the node's HTTP API",
  help: SERVE_HELP,
  options: SERVE_OPTIONS,
  run: serve,
});

async function serve({ values }: CommandInput<typeof SERVE_OPTIONS>): Promise<number> {
  const config = await loadConfig(values, {
    flags: { listen: values.listen, tls: { cert: values["tls-cert"], key: values["tls-key"] } },
  });
  const log = createLogger(config.log.level);
  // Files the configuration names are read before anything is created on disk, so a wrong path
  // leaves no empty data folder behind.
  const tls = await tlsOf(config);
  // And the network lists, which the schema checks only for their shape.
  new NetworkList(config.compat.allow, "compat.allow");
  new NetworkList(config.dns.allow, "dns.allow");
  using _lock = await lockDataDir(config.dataDir); // one serve per data folder; see store/lock.ts
  const serving = await serveNode(config, { clock: systemClock, log, demo: !!values.demo, tls });
  // Listen for signals before announcing readiness: a supervisor may signal as
  // soon as it sees the ready line.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => {
      log.info("Shutting down");
      serving.stop().then(resolve, resolve);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  const { node, server } = serving;
  const index = node.index.current;
  log.info(`pksn listening on ${server.url}`, {
    data: config.dataDir,
    keys: index.prefixes.size,
    indexMillis: index.buildMillis,
    index: index.fromFile ? "saved" : "built",
    // This process's own id: `kill PID` (or Ctrl-C) stops it, whatever started it.
    pid: Deno.pid,
  });
  log.info(`Admin web UI: ${server.url}/admin/`);
  printDemoHint(node, config, server.url, log);
  await stopped;
  return 0;
}
