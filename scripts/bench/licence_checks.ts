/**
 * Single look-ups with licence checks off and on, on the same data and workload.
 * The licensed node runs as a client would meet it: a licence registered with
 * the real CLI, the default `auth.required: true`, the KSN Statement accepted
 * over HTTP, then every request carrying the key. Off and on alternate, each on
 * a freshly started node and one node at a time, so they never share the CPUs.
 */
import { join } from "node:path";
import { checkNode, type NodeCheck, pksn, startNode } from "./node.ts";
import { type Load, type Paths, progress, warmAndMeasure } from "./steps.ts";
import type { WrkResult } from "./wrk.ts";

/** The bench licence's key: fixed, so a kept work folder can be queried by hand. */
export const BENCH_KEY = "BENCH-KEY-0000-0000";
/** The header value a licensed client sends. */
export const AUTHORIZATION = `Bearer ${BENCH_KEY}`;
const GET_PATHS = join(import.meta.dirname!, "get_paths.lua");

/** The fastest of a setting's runs, with every run's requests/s in the order run. */
export type BestRun = WrkResult & { runs: number[] };

/** What {@link compareLicenceChecks} measured. */
export interface LicenceCheckFigures {
  /** Rounds of one auth-off run then one auth-on run. */
  rounds: number;
  hitShare: number;
  off: BestRun;
  on: BestRun;
  /** Best auth-on requests/s over best auth-off requests/s. */
  onToOff: number;
}

/** Registers the bench licence in `dataDir` with `pksn license add`: no quota, all modes. */
export async function registerLicence(dataDir: string): Promise<void> {
  const { code, output } = await pksn(
    [
      "license",
      "add",
      "--customer",
      "bench",
      "--expires",
      "2099-12-31",
      "--key",
      BENCH_KEY,
      "--data",
      dataDir,
    ],
    60_000,
  );
  if (code !== 0) throw new Error(`pksn license add exited with ${code}:\n${output.slice(-4000)}`);
}

/** What a licensed client does first: read the statement, then accept its version. */
async function acceptStatement(url: string): Promise<void> {
  const res = await fetch(`${url}/v1/statement`);
  const statement = await res.json();
  if (res.status !== 200 || !Number.isInteger(statement.version)) {
    throw new Error(`GET /v1/statement: ${res.status} ${JSON.stringify(statement).slice(0, 300)}`);
  }
  const chosen = await fetch(`${url}/v1/participation`, {
    method: "POST",
    headers: { authorization: AUTHORIZATION, "content-type": "application/json" },
    body: JSON.stringify({ mode: "without-statistics", statementVersion: statement.version }),
  });
  const answer = await chosen.json();
  if (chosen.status !== 200 || answer.statementVersion !== statement.version) {
    throw new Error(`POST /v1/participation: ${chosen.status} ${JSON.stringify(answer)}`);
  }
}

/** Fails unless a look-up without a key is refused: the "on" figure must have checks on. */
async function expectRefusedWithoutKey(url: string, hash: string): Promise<void> {
  const res = await fetch(`${url}/v1/files/${hash}`);
  await res.body?.cancel();
  if (res.status !== 401) {
    throw new Error(
      `GET /v1/files/${hash} without a licence key answered ${res.status}, not 401: ` +
        "licence checks are not on",
    );
  }
}

/** One fresh node, checked, then the 10%-hit single look-ups under wrk. */
async function lookupRun(
  load: Load,
  paths: Paths,
  options: {
    records: number;
    config: string;
    check: NodeCheck;
    licensed: boolean;
    round: number;
    rounds: number;
  },
): Promise<WrkResult> {
  const setting = options.licensed ? "on" : "off";
  // The licensed node gets no config file: licence checks are on by default.
  const node = await startNode(paths.data, {
    records: options.records,
    config: options.licensed ? null : options.config,
    label: `auth_${setting}_${options.round}`,
  });
  try {
    const headers: Record<string, string> = {};
    if (options.licensed) {
      await expectRefusedWithoutKey(node.url, options.check.knownHash);
      await acceptStatement(node.url);
      headers.authorization = AUTHORIZATION;
    }
    await checkNode(node.url, options.check, headers);
    progress(
      `node single look-ups, licence checks ${setting} ` +
        `(round ${options.round} of ${options.rounds}), wrk ${load.seconds} s`,
    );
    return await warmAndMeasure(load, {
      url: node.url,
      script: GET_PATHS,
      scriptArgs: [paths.mixedPaths],
      headers: Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    });
  } finally {
    await node.child.stop();
  }
}

function best(runs: WrkResult[]): BestRun {
  const fastest = runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  return { ...fastest, runs: runs.map((r) => r.requestsPerSecond) };
}

/**
 * Runs the mixed single look-ups `rounds` times with licence checks off and then
 * on, alternating, and keeps the best of each: the runs are short, and the best
 * is the figure least disturbed by anything else on the machine.
 */
export async function compareLicenceChecks(
  load: Load,
  paths: Paths,
  options: { records: number; config: string; check: NodeCheck; rounds: number; hitShare: number },
): Promise<LicenceCheckFigures> {
  const off: WrkResult[] = [];
  const on: WrkResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    off.push(await lookupRun(load, paths, { ...options, licensed: false, round }));
    on.push(await lookupRun(load, paths, { ...options, licensed: true, round }));
  }
  const bestOff = best(off);
  const bestOn = best(on);
  return {
    rounds: options.rounds,
    hitShare: options.hitShare,
    off: bestOff,
    on: bestOn,
    onToOff: bestOn.requestsPerSecond / bestOff.requestsPerSecond,
  };
}
