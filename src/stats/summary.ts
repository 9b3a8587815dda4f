/**
 * Counting a day's records: by verdict and threat, with the SHA-256 of the bytes
 * counted. The day is read as a stream and the counts are exact in bounded
 * memory whatever the number of distinct threats (see `_counts.ts`): the
 * {@link TOP_THREATS} most frequent threats are listed, the rest summed up.
 */
import { createHash } from "node:crypto";
import { readLines } from "../core/mod.ts";
import { BoundedCounts, byCountThenName } from "./_counts.ts";

/** Threats listed by name in a summary; the others are summed up in `otherThreats`. */
export const TOP_THREATS = 1000;
/** Longest threat name a record can carry; a longer one (never written by pksn) is cut here. */
const MAX_THREAT_CHARS = 256;
/** Distinct verdicts counted by name; records carry one of a handful, so more means a foreign file. */
const MAX_VERDICTS = 64;
const MAX_VERDICT_CHARS = 32;
/** The verdict key that counts verdicts beyond {@link MAX_VERDICTS} or too long to be one. */
const OTHER_VERDICT = "(other)";

/** Records whose threat is not listed, and how many distinct threats they carry. */
export interface OtherThreats {
  records: number;
  distinct: number;
}

/** What a day's NDJSON holds. */
export interface Summary {
  records: number;
  bytes: number;
  /** SHA-256 of the NDJSON bytes, lower-case hex. */
  sha256: string;
  verdicts: Record<string, number>;
  /** The {@link TOP_THREATS} most frequent threats, largest first, ties by name. */
  threats: Record<string, number>;
  /** The records with a threat not in `threats`. */
  otherThreats: OtherThreats;
  /** Every count is counted, none estimated. */
  countsExact: boolean;
}

/** Options of {@link summarize}. */
export interface SummarizeOptions {
  /** Where counts of a day with very many distinct threats are kept meanwhile (the statistics folder). */
  tempDir: string;
}

/** Reads NDJSON bytes once and counts its records; lines that are not records are skipped. */
export async function summarize(
  chunks: AsyncIterable<Uint8Array>,
  options: SummarizeOptions,
): Promise<Summary> {
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
  const threats = new BoundedCounts(options.tempDir);
  try {
    for await (const line of readLines(ReadableStream.from(hashed()))) {
      if (line.error !== undefined || line.text === "") continue;
      let record: { verdict?: unknown; threat?: unknown };
      try {
        record = JSON.parse(line.text);
      } catch {
        continue;
      }
      if (record === null || typeof record !== "object") continue;
      records++;
      if (typeof record.verdict === "string") countVerdict(verdicts, record.verdict);
      if (typeof record.threat === "string") {
        const threat = record.threat;
        threats.add(
          threat.length > MAX_THREAT_CHARS ? `${threat.slice(0, MAX_THREAT_CHARS)}…` : threat,
        );
      }
    }
    const { top, other } = threats.top(TOP_THREATS);
    return {
      records,
      bytes,
      sha256: hash.digest("hex"),
      verdicts: Object.fromEntries([...verdicts].sort(byCountThenName)),
      threats: Object.fromEntries(top),
      otherThreats: other,
      countsExact: true,
    };
  } finally {
    threats.close();
  }
}

/**
 * The threat counts of a summary written before `otherThreats` existed, which
 * listed every threat: cut to {@link TOP_THREATS}, the rest summed up.
 */
export function topThreats(
  threats: Record<string, number>,
  other: OtherThreats = { records: 0, distinct: 0 },
): { threats: Record<string, number>; otherThreats: OtherThreats } {
  const entries = Object.entries(threats);
  if (entries.length <= TOP_THREATS) return { threats, otherThreats: other };
  entries.sort(byCountThenName);
  const rest = entries.slice(TOP_THREATS);
  return {
    threats: Object.fromEntries(entries.slice(0, TOP_THREATS)),
    otherThreats: {
      records: other.records + rest.reduce((sum, [, n]) => sum + n, 0),
      distinct: other.distinct + rest.length,
    },
  };
}

function countVerdict(counts: Map<string, number>, verdict: string): void {
  const named = verdict.length <= MAX_VERDICT_CHARS &&
    (counts.has(verdict) || counts.size < MAX_VERDICTS);
  const key = named ? verdict : OTHER_VERDICT;
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
