/**
 * pksn itself as the bench runs it: the real CLI to completion, and the node as
 * a server that is started, checked and stopped. Every one is its own `deno`
 * process (spawned from `Deno.execPath()`, not through npx), so /proc shows the
 * node's own memory.
 */
import { join, resolve } from "node:path";
import { type Child, run, start, waitForOk } from "./processes.ts";
import { programArgs } from "./program.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const DENO = Deno.execPath();
// A known environment for the node: "info" so the listening line shows, no config file.
const NODE_ENV = { PKSN_LOG_LEVEL: "info", PKSN_CONFIG: "", NO_COLOR: "1" };
// BENCH_PROFILE=DIR runs every node under V8's CPU profiler, one .cpuprofile per node.
const PROFILE_DIR = Deno.env.get("BENCH_PROFILE") ? resolve(Deno.env.get("BENCH_PROFILE")!) : null;

/** The folder BENCH_PROFILE names (absolute), or null when the nodes run unprofiled. */
export function profileDir(): string | null {
  return PROFILE_DIR;
}

/**
 * Runs `deno run -A PROGRAM ARGS` (the real CLI, see program.ts) to completion, with the V8 flags
 * the appliance's launcher gives every command. Without them `pksn import` ran about 10% faster
 * than on the appliance, and left a code cache that the node's first start (with the flags) could
 * not use: 6-8 MB more RSS when ready, at that start only.
 */
export async function pksn(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number; output: string; millis: number }> {
  return await run(`pksn ${args[0]}`, await pksnCommand(args), {
    cwd: ROOT,
    env: NODE_ENV,
    timeoutMs,
  });
}

/** The command line of `pksn ARGS` as the bench runs it: the launcher's V8 flags, then the program. */
export async function pksnCommand(args: readonly string[]): Promise<string[]> {
  return [DENO, "run", "-A", ...await serveV8Flags(), ...programArgs(), ...args];
}

/** A running node and what it logged when it started. */
export interface RunningNode {
  child: Child;
  url: string;
  indexMillis: number | null;
  indexKeys: number | null;
  /** "saved" when the node read DATA/index.bin, "built" when it scanned the keys. */
  indexFrom: string | null;
  /** From spawning the process to /readyz answering 200. */
  readyMillis: number;
}

/**
 * Starts `deno run -A PROGRAM serve` and waits until it listens and /readyz
 * is 200. `label` names its CPU profile when BENCH_PROFILE is set.
 */
export async function startNode(
  dataDir: string,
  options: { records: number; config: string | null; label: string },
): Promise<RunningNode> {
  // The same V8 flags as `task start` and the compiled binary (deno.json), so the
  // memory figures are the ones an appliance sees.
  const args = ["run", "-A", ...await serveV8Flags()];
  if (PROFILE_DIR !== null) {
    args.push(
      "--cpu-prof",
      `--cpu-prof-dir=${PROFILE_DIR}`,
      `--cpu-prof-name=${options.label}.cpuprofile`,
    );
  }
  args.push(...programArgs(), "serve", "--data", dataDir, "--listen", "127.0.0.1:0");
  if (options.config !== null) args.push("--config", options.config);
  const spawned = performance.now();
  const child = start("pksn serve", [DENO, ...args], { cwd: ROOT, env: NODE_ENV });
  try {
    const m = await child.waitFor(
      /pksn listening on (http:\/\/\S+)(.*)$/m,
      60_000 + options.records / 10,
    );
    const url = m[1];
    const indexMillis = /indexMillis=(\d+)/.exec(m[2]);
    const indexKeys = /keys=(\d+)/.exec(m[2]);
    const indexFrom = /index=(\w+)/.exec(m[2]);
    await waitForOk(`${url}/readyz`, 30_000);
    return {
      child,
      url,
      indexMillis: indexMillis ? Number(indexMillis[1]) : null,
      indexKeys: indexKeys ? Number(indexKeys[1]) : null,
      indexFrom: indexFrom ? indexFrom[1] : null,
      readyMillis: Math.round(performance.now() - spawned),
    };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Hit share of a batch answer: results whose verdict is not "unknown". */
function hitShareOf(answer: { results: { verdict?: string }[] }): number {
  const hits = answer.results.filter((r) => r.verdict !== undefined && r.verdict !== "unknown");
  return hits.length / answer.results.length;
}

/** What {@link checkNode} asks: a known and an unknown hash, and one batch body. */
export interface NodeCheck {
  knownHash: string;
  unknownHash: string;
  body: string;
  items: number;
}

/**
 * Asks the node once the way wrk will, so a wrong route or body fails the bench
 * instead of measuring error answers. Returns the hit share of the first batch body.
 */
export async function checkNode(
  url: string,
  sample: NodeCheck,
  headers: Record<string, string> = {},
): Promise<number> {
  const get = async (hash: string): Promise<string> => {
    const res = await fetch(`${url}/v1/files/${hash}`, { headers });
    const json = await res.json();
    if (res.status !== 200) {
      throw new Error(`GET /v1/files/${hash}: ${res.status} ${JSON.stringify(json)}`);
    }
    return json.verdict;
  };
  if (await get(sample.knownHash) === "unknown") {
    throw new Error(`The imported hash "${sample.knownHash}" looked up as unknown`);
  }
  if (await get(sample.unknownHash) !== "unknown") {
    throw new Error(`The random hash "${sample.unknownHash}" did not look up as unknown`);
  }
  const res = await fetch(`${url}/v1/lookup`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: sample.body,
  });
  const answer = await res.json();
  if (res.status !== 200 || answer.results?.length !== sample.items) {
    throw new Error(`POST /v1/lookup: ${res.status} ${JSON.stringify(answer).slice(0, 500)}`);
  }
  return hitShareOf(answer);
}

/** The `--v8-flags=...` argument of deno.json's `start` task, if any. */
export async function serveV8Flags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const flag = (config.tasks?.start as string | undefined)?.match(/--v8-flags=\S+/)?.[0];
  return flag ? [flag] : [];
}
