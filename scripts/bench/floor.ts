/**
 * The floor under the node's look-up figures (floor_server.ts): the same workloads against a bare
 * `Deno.serve` that does only a look-up's own work through the node's look-up engine. A target
 * above the floor's ratio cannot be met by trimming what surrounds the look-up; only a faster
 * engine, runtime or machine would meet it.
 */
import { join } from "node:path";
import { AUTHORIZATION } from "./licence_checks.ts";
import { memoryOf, start, waitForOk } from "./processes.ts";
import { type Load, type Paths, progress, warmAndMeasure } from "./steps.ts";
import type { WrkResult } from "./wrk.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const HERE = import.meta.dirname!;

/** The floor's runs, each the same workload the node had. */
export interface FloorFigures {
  /** The licence header read and compared, a fixed answer. */
  licence: WrkResult;
  /** The node's licensed single look-up workload (90% unknown), header sent. */
  mixed: WrkResult;
  /** Every known file in turn (beyond the answer cache), no header, as the node's run. */
  hits: WrkResult;
  /** The node's batch bodies, no header, as the node's run. */
  batch: WrkResult;
  /**
   * The floor's memory in bytes: VmRSS once it answers, and VmHWM after its runs. Its peak
   * under the node's workloads is what the runtime and the look-up engine hold before anything
   * of the node's own; absent in older runs.
   */
  memory?: { readyBytes: number; peakBytes: number };
}

/** Runs floor_server.ts on the bench's data (no node may be running on it) under wrk. */
export async function measureFloor(
  load: Load,
  paths: Paths,
  options: { v8Flags: readonly string[] },
): Promise<FloorFigures> {
  const server = start("floor server", [
    Deno.execPath(),
    "run",
    "-A",
    ...options.v8Flags,
    join(HERE, "floor_server.ts"),
    "0",
    paths.data,
    AUTHORIZATION,
  ], { cwd: ROOT });
  try {
    const [, url] = await server.waitFor(/floor listening on (http:\/\/\S+)/, 120_000);
    await waitForOk(`${url}/licence`, 10_000);
    const readyBytes = (await memoryOf(server.pid)).rss;
    const header = [`authorization: ${AUTHORIZATION}`];
    const script = (name: string): string => join(HERE, name);
    progress(`floor: licence check and a fixed answer, wrk ${load.seconds} s`);
    const licence = await warmAndMeasure(load, { url: `${url}/licence`, headers: header });
    progress(`floor: single look-ups (mostly misses), licence checked, wrk ${load.seconds} s`);
    const mixed = await warmAndMeasure(load, {
      url,
      script: script("get_paths.lua"),
      scriptArgs: [paths.mixedPaths],
      headers: header,
    });
    progress(`floor: single look-ups (all listed), wrk ${load.seconds} s`);
    const hits = await warmAndMeasure(load, {
      url,
      script: script("get_paths.lua"),
      scriptArgs: [paths.hitPaths],
    });
    progress(`floor: batch look-ups, wrk ${load.seconds} s`);
    const batch = await warmAndMeasure(load, {
      url,
      script: script("post_bodies.lua"),
      scriptArgs: [paths.bodies],
    });
    const peakBytes = (await memoryOf(server.pid)).hwm;
    return { licence, mixed, hits, batch, memory: { readyBytes, peakBytes } };
  } finally {
    await server.stop();
  }
}
