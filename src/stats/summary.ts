/** Counting a day's records: by verdict and threat, with the SHA-256 of the bytes counted. */
import { createHash } from "node:crypto";
import { readLines } from "../text/lines.ts";

/** What a day's NDJSON holds. */
export interface Summary {
  records: number;
  bytes: number;
  /** SHA-256 of the NDJSON bytes, lower-case hex. */
  sha256: string;
  verdicts: Record<string, number>;
  threats: Record<string, number>;
}

/** Reads NDJSON bytes once and counts its records; lines that are not records are skipped. */
export async function summarize(chunks: AsyncIterable<Uint8Array>): Promise<Summary> {
  const hash = createHash("sha256");
  let bytes = 0;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  }
  let records = 0;
  const verdicts = new Map<string, number>();
  const threats = new Map<string, number>();
  for await (const line of readLines(ReadableStream.from(hashed()))) {
    if (line.error !== undefined || line.text === "") continue;
    let record: { verdict?: unknown; threat?: unknown };
    try {
      record = JSON.parse(line.text);
    } catch {
      continue;
    }
    records++;
    if (typeof record.verdict === "string") increment(verdicts, record.verdict);
    if (typeof record.threat === "string") increment(threats, record.threat);
  }
  return {
    records,
    bytes,
    sha256: hash.digest("hex"),
    verdicts: sortedCounts(verdicts),
    threats: sortedCounts(threats),
  };
}

/** Adds two summaries' counts (for a day found both archived and as a file). */
export function addCounts(
  a: Record<string, number>,
  b: Record<string, number>,
): Record<string, number> {
  const sum = new Map(Object.entries(a));
  for (const [key, n] of Object.entries(b)) increment(sum, key, n);
  return sortedCounts(sum);
}

function increment(counts: Map<string, number>, key: string, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

/** Counts as a plain object, largest first, then by name. */
function sortedCounts(counts: Map<string, number>): Record<string, number> {
  const entries = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  return Object.fromEntries(entries);
}
