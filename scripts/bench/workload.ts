/**
 * What wrk sends: files of GET paths (one a line) and of batch bodies (one JSON
 * document a line) that the Lua scripts read once per thread and then cycle through.
 */
import type { KnownObject } from "./dataset.ts";
import { Random, weighted } from "./random.ts";

/** One look-up item, as `POST /v1/lookup` takes it. */
export interface LookupItem {
  type: string;
  value: string;
}

const UNKNOWN_MIX = [
  [0.93, "sha256"],
  [0.02, "md5"],
  [0.02, "url"],
  [0.02, "domain"],
  [0.01, "ip"],
] as const;

/** An object the data set does not hold (random, so a hit is vanishingly unlikely). */
export function unknownItem(random: Random): LookupItem {
  switch (weighted(random, UNKNOWN_MIX)) {
    case "sha256":
      return { type: "file", value: random.hex(32) };
    case "md5":
      return { type: "file", value: random.hex(16) };
    case "url":
      return { type: "url", value: `https://www.${random.hex(4)}.example/${random.hex(4)}?q=1` };
    case "domain":
      return { type: "domain", value: `${random.hex(4)}.unknown.example` };
    default: {
      const v = random.u32();
      return { type: "ip", value: `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}` };
    }
  }
}

/** Known file hashes only: single look-ups are the `/v1/files/{hash}` route. */
export function knownFiles(known: readonly KnownObject[]): string[] {
  return known.filter((k) => k.type === "file").map((k) => k.value);
}

/**
 * `count` GET paths: a share `hitShare` of known file hashes, the rest random
 * SHA-256 hashes the node has never seen, shuffled together.
 */
export function filePaths(
  files: readonly string[],
  options: { count: number; hitShare: number; seed: number },
): string[] {
  const random = new Random(options.seed);
  const out: string[] = [];
  let hit = 0;
  for (let i = 0; i < options.count; i++) {
    const known = files.length > 0 && random.next() < options.hitShare;
    const hash = known ? files[hit++ % files.length] : random.hex(32);
    out.push(`/v1/files/${hash}`);
  }
  return out;
}

/** `count` batch bodies of `items` items each, `hitShare` of them known objects. */
export function batchBodies(
  known: readonly KnownObject[],
  options: { count: number; items: number; hitShare: number; seed: number },
): string[] {
  const random = new Random(options.seed);
  const bodies: string[] = [];
  let hit = random.below(Math.max(1, known.length));
  for (let b = 0; b < options.count; b++) {
    const items: LookupItem[] = [];
    for (let i = 0; i < options.items; i++) {
      if (known.length > 0 && random.next() < options.hitShare) {
        items.push(known[hit++ % known.length]);
      } else {
        items.push(unknownItem(random));
      }
    }
    bodies.push(JSON.stringify({ items }));
  }
  return bodies;
}

/** Writes one entry a line. */
export async function writeLines(path: string, lines: readonly string[]): Promise<void> {
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}
