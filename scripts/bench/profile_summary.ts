/**
 * Summarises a V8 `.cpuprofile` (what `deno run --cpu-prof` and the bench's
 * BENCH_PROFILE write): the functions and the files with the most self time.
 * `--last S` keeps only the profile's last S seconds, which for a bench node is
 * its measured wrk run rather than its start-up.
 */
import { parseArgs } from "node:util";

const HELP = `Usage: deno run --allow-read scripts/bench/profile_summary.ts FILE [options]

Options:
  --last S    only the last S seconds of the profile (default: all of it)
  --top N     rows per table (default 25)
`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self-time samples per key, most first. */
export interface Tally {
  total: number;
  idle: number;
  rows: [string, number][];
}

const ROOT = new URL("../..", import.meta.url).href;

function shortUrl(url: string): string {
  if (url === "") return "";
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  const npm = /\/registry\.npmjs\.org\/(.+)$/.exec(url);
  return npm ? `npm:${npm[1]}` : url;
}

/** Counts self-time samples by the key `by` gives each frame, over the last `lastSeconds` if given. */
export function tally(
  profile: Profile,
  by: (frame: ProfileNode["callFrame"]) => string,
  lastSeconds?: number,
): Tally {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const from = lastSeconds === undefined ? -Infinity : profile.endTime - lastSeconds * 1e6;
  const counts = new Map<string, number>();
  let at = profile.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (at < from) continue;
    const frame = byId.get(profile.samples[i])!;
    total++;
    if (frame.functionName === "(idle)") idle++;
    const key = by(frame);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { total, idle, rows: [...counts].sort((a, b) => b[1] - a[1]) };
}

function render(title: string, t: Tally, top: number): string {
  const busy = t.total - t.idle;
  const lines = [`${title} (share of ${busy} busy samples; ${t.idle} idle left out)`];
  for (const [key, n] of t.rows.filter(([k]) => !k.startsWith("(idle)")).slice(0, top)) {
    lines.push(`${(100 * n / Math.max(1, busy)).toFixed(1).padStart(6)}%  ${key}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { last: { type: "string" }, top: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help || positionals.length !== 1) {
    console.log(HELP);
    Deno.exit(values.help ? 0 : 2);
  }
  const profile: Profile = JSON.parse(await Deno.readTextFile(positionals[0]));
  const last = values.last === undefined ? undefined : Number(values.last);
  const top = Number(values.top ?? 25);
  const fn = (f: ProfileNode["callFrame"]): string => {
    const where = shortUrl(f.url);
    const name = f.functionName || "(anonymous)";
    return where ? `${name}  ${where}:${f.lineNumber + 1}` : name;
  };
  const file = (f: ProfileNode["callFrame"]): string => shortUrl(f.url) || f.functionName;
  const seconds = last === undefined ? (profile.endTime - profile.startTime) / 1e6 : last;
  console.log(`${positionals[0]}: last ${seconds.toFixed(1)} s\n`);
  console.log(render("Self time by function", tally(profile, fn, last), top));
  console.log("");
  console.log(render("Self time by file", tally(profile, file, last), top));
}
