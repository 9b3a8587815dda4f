/**
 * DNS look-ups under load: dnsperf asks the node (`dns.listen`) and then rbldnsd, both on
 * 127.0.0.1 and serving the same list of listed MD5 hashes (Team Cymru MHR style names), in the
 * same run, with the same query file: half listed names (A 127.0.0.2), half unknown (NXDOMAIN).
 */
import { join } from "node:path";
import { pksn, startNode } from "./node.ts";
import { run, start } from "./processes.ts";
import { Random } from "./random.ts";
import { progress } from "./steps.ts";
import { writeLines } from "./workload.ts";

/** What one dnsperf run measured. */
export interface DnsperfResult {
  queriesPerSecond: number;
  averageLatencyMs: number;
  lostShare: number;
  noerror: number;
  nxdomain: number;
}

/** What the dns step measured. */
export interface DnsFigures {
  listed: number;
  node: DnsperfResult;
  rbldnsd: DnsperfResult;
}

/** The DNS target. */
export const DNS_TARGET = "≤ 0.1% lost under dnsperf's load (UDP drops some when full)";

const LISTED = 100_000;
const QUERIES = 200_000;
const ZONE = "bench.pksn";

/** Whether the figures meet {@link DNS_TARGET}. */
export function dnsPass(f: DnsFigures): boolean {
  return f.node.queriesPerSecond > 0 && f.node.lostShare <= 0.001;
}

/** The table rows: measure, figure, target, result. */
export function dnsRows(f: DnsFigures): [string, string, string, string][] {
  const int = (n: number): string => Math.round(n).toLocaleString("en-US");
  const row = (r: DnsperfResult): string =>
    `${int(r.queriesPerSecond)} queries/s, average ${r.averageLatencyMs.toFixed(2)} ms, ` +
    `${(r.lostShare * 100).toFixed(2)}% lost`;
  return [
    [
      `DNS look-ups (MHR style, 50% listed of ${int(f.listed)}), pksn`,
      `${row(f.node)}; ${
        (f.node.queriesPerSecond / f.rbldnsd.queriesPerSecond * 100).toFixed(0)
      }% of rbldnsd`,
      DNS_TARGET,
      dnsPass(f) ? "PASS" : "MISS",
    ],
    ["DNS look-ups, the same list and queries, rbldnsd", row(f.rbldnsd), "", ""],
  ];
}

/** Whether dnsperf and rbldnsd are installed; the step needs both. */
export function dnsToolsMissing(): string[] {
  const missing: string[] = [];
  for (const tool of ["dnsperf", "rbldnsd"]) {
    const found = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"].some((dir) => {
      try {
        return Deno.statSync(join(dir, tool)).isFile;
      } catch {
        return false;
      }
    });
    if (!found) missing.push(tool);
  }
  return missing;
}

/** Runs the dns step in `dir`, each dnsperf run lasting `seconds`. */
export async function measureDns(dir: string, seconds: number): Promise<DnsFigures> {
  const random = new Random(23);
  const listed = Array.from({ length: LISTED }, () => random.hex(16));
  progress(`dns: ${LISTED.toLocaleString("en-US")} listed MD5 hashes for the node and rbldnsd`);
  const records = join(dir, "dns_records.ndjson");
  await writeLines(
    records,
    listed.map((md5) => JSON.stringify({ type: "file", md5, verdict: "malicious" })),
  );
  const dataDir = join(dir, "dns_node");
  const imported = await pksn(["import", records, "--data", dataDir], 120_000);
  if (imported.code !== 0) throw new Error(`pksn import: ${imported.output.slice(-2000)}`);
  // rbldnsd run by root chroots to its folder and then drops to its own user, who must be able
  // to read the folder: the work folder is the bench user's alone.
  const rblDir = join(dir, "dns_rbldnsd");
  await Deno.mkdir(rblDir, { mode: 0o755 });
  await Deno.chmod(rblDir, 0o755);
  const rblFile = join(rblDir, "list.txt");
  await writeLines(rblFile, listed.map((md5) => `${md5} :127.0.0.2:malicious`));
  await Deno.chmod(rblFile, 0o644);
  const queries = join(dir, "dns_queries.txt");
  await writeLines(
    queries,
    Array.from(
      { length: QUERIES },
      (_, i) => `${i % 2 === 0 ? listed[(i / 2) % LISTED] : random.hex(16)}.${ZONE} A`,
    ),
  );

  const nodePort = freePort();
  const config = join(dir, "dns_node.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      auth: { required: false },
      dns: { listen: `127.0.0.1:${nodePort}`, zone: ZONE },
    }),
  );
  const node = await startNode(dataDir, { records: LISTED, config, label: "dns" });
  let nodeResult: DnsperfResult;
  try {
    await node.child.waitFor(/DNS listening on/, 30_000);
    progress(`dns: dnsperf against the node for ${seconds} s`);
    nodeResult = await dnsperf(nodePort, queries, seconds);
  } finally {
    await node.child.stop();
  }

  const rblPort = freePort();
  const rbldnsd = start("rbldnsd", [
    "rbldnsd",
    "-n",
    "-f",
    "-r",
    rblDir,
    "-b",
    `127.0.0.1/${rblPort}`,
    `${ZONE}:dnset:list.txt`,
  ]);
  try {
    // Printed once its sockets are open and its zones loaded.
    await rbldnsd.waitFor(/rbldnsd version .* started/, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    progress(`dns: dnsperf against rbldnsd for ${seconds} s`);
    const rbldnsdResult = await dnsperf(rblPort, queries, seconds);
    return { listed: LISTED, node: nodeResult, rbldnsd: rbldnsdResult };
  } finally {
    await rbldnsd.stop();
  }
}

async function dnsperf(port: number, queries: string, seconds: number): Promise<DnsperfResult> {
  const out = await run("dnsperf", [
    "dnsperf",
    "-s",
    "127.0.0.1",
    "-p",
    String(port),
    "-d",
    queries,
    "-l",
    String(seconds),
    "-c",
    "4",
    "-q",
    "200",
  ], { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new Error(`dnsperf: ${out.output.slice(-2000)}`);
  const number = (pattern: RegExp): number => {
    const m = pattern.exec(out.output);
    if (!m) throw new Error(`dnsperf printed no ${pattern}:\n${out.output.slice(-2000)}`);
    return Number(m[1]);
  };
  const sent = number(/Queries sent:\s+(\d+)/);
  return {
    queriesPerSecond: number(/Queries per second:\s+([\d.]+)/),
    averageLatencyMs: number(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    lostShare: sent === 0 ? 0 : number(/Queries lost:\s+(\d+)/) / sent,
    noerror: Number(/NOERROR (\d+)/.exec(out.output)?.[1] ?? 0),
    nxdomain: Number(/NXDOMAIN (\d+)/.exec(out.output)?.[1] ?? 0),
  };
}

function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}
