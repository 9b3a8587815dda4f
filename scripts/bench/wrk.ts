/** Running wrk and reading its report. */
import { run } from "./processes.ts";

/** The figures of one wrk run; latencies in milliseconds. */
export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  seconds: number;
  latencyMs: { avg: number; max: number; p50: number; p75: number; p90: number; p99: number };
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

/** Options of one wrk run. */
export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  seconds: number;
  /** Lua script and the arguments it gets after `--`. */
  script?: string;
  scriptArgs?: string[];
  /** Extra request headers, `Name: value`, sent with every request (wrk `-H`). */
  headers?: readonly string[];
}

const DIRS = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);

/** Path of the wrk binary, or null when it is not installed. */
export function findWrk(): string | null {
  for (const dir of ["/usr/bin", ...DIRS]) {
    try {
      const path = `${dir}/wrk`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not in this directory.
    }
  }
  return null;
}

/** Runs wrk with `--latency` and parses its report; throws if wrk fails. */
export async function runWrk(wrk: string, options: WrkOptions): Promise<WrkResult> {
  const args = [
    wrk,
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--timeout",
    "10s",
    "--latency",
  ];
  for (const header of options.headers ?? []) args.push("-H", header);
  if (options.script) args.push("-s", options.script);
  args.push(options.url);
  if (options.scriptArgs?.length) args.push("--", ...options.scriptArgs);
  const { code, output } = await run("wrk", args, { timeoutMs: (options.seconds + 30) * 1000 });
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${output}`);
  return parseWrk(output);
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function millis(value: string, unit: string): number {
  return Number(value) * UNIT_MS[unit];
}

/** Parses wrk's text report (run with `--latency`). */
export function parseWrk(text: string): WrkResult {
  const need = (pattern: RegExp, what: string): RegExpExecArray => {
    const m = pattern.exec(text);
    if (!m) throw new Error(`Cannot read ${what} from wrk's report:\n${text}`);
    return m;
  };
  const rps = need(/^Requests\/sec:\s+([\d.]+)/m, "Requests/sec");
  const total = need(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),/m, "the request count");
  const latency = need(
    /^\s*Latency\s+([\d.]+)(us|ms|s|m)\s+[\d.]+(?:us|ms|s|m)\s+([\d.]+)(us|ms|s|m)/m,
    "the latency line",
  );
  const percentile = (p: number): number => {
    const m = need(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)`, "m"), `the ${p}th percentile`);
    return millis(m[1], m[2]);
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    requests: Number(total[1]),
    seconds: millis(total[2], total[3]) / 1000,
    latencyMs: {
      avg: millis(latency[1], latency[2]),
      max: millis(latency[3], latency[4]),
      p50: percentile(50),
      p75: percentile(75),
      p90: percentile(90),
      p99: percentile(99),
    },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
  };
}
