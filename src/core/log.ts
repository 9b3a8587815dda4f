/**
 * A small levelled logger writing one line per event to stderr. Messages follow
 * the house voice; structured fields go after the message as `key=value`.
 */

/** Log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where log lines go. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Creates a logger that writes lines at `level` and above through `write`. */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => console.error(line),
  clock: { now(): number } = Date,
): Logger {
  const min = RANK[level];
  const emit = (at: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[at] < min) return;
    let line = `${new Date(clock.now()).toISOString()} ${at.toUpperCase().padEnd(5)} ${message}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        line += ` ${k}=${typeof v === "string" && !/\s|"/.test(v) ? v : JSON.stringify(v)}`;
      }
    }
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger("debug", (l) => lines.push(l)), { lines });
}
