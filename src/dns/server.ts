/**
 * The DNS side of a serving node: UDP and TCP on `dns.listen`, look-ups under `dns.zone`, the
 * RPZ zone `dns.rpzZone` by transfer, clients admitted by `dns.allow`, and a timer that rebuilds
 * the RPZ zone when the entries or the mirror version move.
 */
import {
  type Config,
  ConfigError,
  Counter,
  type Logger,
  parseListen,
  quote,
  type Registry,
} from "../core/mod.ts";
import { NetworkList, type Reputation } from "../reputation/mod.ts";
import { type DatabaseSync, readGenerations } from "../store/mod.ts";
import { type AnswerDeps, answerQuery, type Outcome } from "./answer.ts";
import { RpzZone } from "./rpz_zone.ts";
import { serveTcp } from "./tcp.ts";
import { transferMessages } from "./transfer.ts";
import { serveUdp, type UdpServer } from "./udp.ts";

/** What {@link startDns} needs. */
export interface DnsDeps {
  config: Config;
  reputation: Reputation;
  /** The node's connection: where the RPZ zone's published serial is kept. */
  db: DatabaseSync;
  /** A connection of the DNS side's own (its RPZ journal lives there); closed by `stop`. */
  zoneDb: DatabaseSync;
  /** The synced mirror's version now. */
  mirrorVersion: () => number;
  log: Logger;
  registry?: Registry;
}

/** A running DNS server. */
export interface DnsServer {
  /** The bound address and port (UDP and TCP share the port). */
  readonly hostname: string;
  readonly port: number;
  /** The RPZ zone, when `dns.rpzZone` is set. */
  readonly rpz: RpzZone | null;
  /** Rebuilds the RPZ zone now if the data moved (the timer does this on its own). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts answering on `dns.listen` (which must be set). */
export async function startDns(deps: DnsDeps): Promise<DnsServer> {
  const { config, log } = deps;
  const dns = config.dns;
  const listen = parseListen(dns.listen ?? "");
  if (listen === null) throw new ConfigError(`dns.listen ${quote(dns.listen)} is not HOST:PORT`);
  const allow = new NetworkList(dns.allow, "dns.allow");
  const zone = canonicalZone(dns.zone);
  const rpzZone = dns.rpzZone === null ? null : canonicalZone(dns.rpzZone);
  const rpz = rpzZone === null ? null : await RpzZone.open({
    db: deps.zoneDb,
    settings: deps.db,
    zone: rpzZone,
    ips: dns.rpzIps,
    mirrorVersion: deps.mirrorVersion,
    log,
  });
  let serial = deps.mirrorVersion();
  const responses = deps.registry?.register(
    new Counter("pksn_dns_responses_total", "DNS responses, by transport and response code", [
      "transport",
      "rcode",
    ]),
  );
  const answerDeps: AnswerDeps = {
    reputation: deps.reputation,
    zone,
    rpz,
    negativeTtl: config.lookup.unknownTtl,
    serial: () => Math.max(serial, 1),
  };
  const answer = (transport: "udp" | "tcp") => (bytes: Uint8Array, address: string): Outcome => {
    const outcome = answerQuery(bytes, { transport, admitted: allow.admits(address) }, answerDeps);
    if (outcome.kind === "reply") responses?.inc(transport, RCODE_NAMES[outcome.bytes[3] & 0xf]);
    return outcome;
  };
  const listener = Deno.listen({ hostname: listen.hostname, port: listen.port, transport: "tcp" });
  const port = listener.addr.port;
  let udp: UdpServer;
  try {
    udp = await serveUdp(listen.hostname, port, { answer: answer("udp"), log });
  } catch (err) {
    listener.close();
    throw new ConfigError(
      `Cannot listen for DNS on UDP ${quote(`${listen.hostname}:${port}`)}: ${
        (err as Error).message
      }`,
    );
  }
  const tcp = serveTcp(listener, {
    answer: answer("tcp"),
    transfer: (t) =>
      transferMessages(t.query, t, rpz!, {
        ttl: dns.rpzTtl,
        negativeTtl: config.lookup.unknownTtl,
      }),
    log,
  });
  let seen = { entries: readGenerations(deps.zoneDb).entries, version: serial };
  let refreshing: Promise<void> | null = null;
  const refresh = (): Promise<void> => {
    refreshing ??= (async () => {
      try {
        const now = {
          entries: readGenerations(deps.zoneDb).entries,
          version: deps.mirrorVersion(),
        };
        if (now.entries === seen.entries && now.version === seen.version) return;
        serial = now.version;
        await rpz?.refresh();
        seen = now; // only once built: a failed build is tried again at the next tick
      } catch (err) {
        log.error(`Cannot rebuild the RPZ zone: ${(err as Error).message}`);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };
  const timer = setInterval(refresh, config.store.reloadCheckSeconds * 1000);
  log.info(`DNS listening on ${listen.hostname}:${port} (UDP and TCP)`, {
    zone,
    rpz: rpzZone ?? undefined,
    serial: rpz?.serial,
  });
  return {
    hostname: listen.hostname,
    port,
    rpz,
    refresh,
    async stop(): Promise<void> {
      clearInterval(timer);
      await refreshing;
      await udp.close();
      await tcp.stop();
      if (deps.zoneDb.isOpen) deps.zoneDb.close();
    },
  };
}

const RCODE_NAMES = [
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  ...Array.from({ length: 10 }, (_, i) => String(i + 6)),
];

/** A zone name as matched: lower case, no final dot. */
function canonicalZone(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
