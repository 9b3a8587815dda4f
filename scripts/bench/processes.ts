/**
 * Child processes the bench starts: each one is tracked until it exits, so an
 * error or Ctrl-C never leaves a server or wrk running behind the bench.
 */

/** A started child whose output is drained and kept (the tail of it). */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: Deno.ChildProcess;
  /** Everything the child wrote so far (stdout and stderr interleaved, last 1 MiB). */
  output(): string;
  /** Settles with the exit code. */
  readonly exited: Promise<number>;
  /** Waits until `pattern` appears in the output; rejects if the child exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<number>;
}

const running = new Set<Child>();
const KEEP_CHARS = 1 << 20;

/** Starts `args[0]` with the rest as arguments, piping and draining its output. */
export function start(
  name: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Child {
  const [command, ...rest] = args;
  const process = new Deno.Command(command, {
    args: rest,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const listeners = new Set<() => void>();
  const append = (chunk: string): void => {
    text += chunk;
    if (text.length > 2 * KEEP_CHARS) text = text.slice(-KEEP_CHARS);
    for (const listener of listeners) listener();
  };
  const drain = async (stream: ReadableStream<Uint8Array>): Promise<void> => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) append(chunk);
  };
  const drained = Promise.all([drain(process.stdout), drain(process.stderr)]);
  const exited = process.status.then(async (status) => {
    await drained.catch(() => {});
    running.delete(child);
    for (const listener of listeners) listener();
    return status.code;
  });
  let done = false;
  exited.then(() => {
    done = true;
  });

  const child: Child = {
    name,
    pid: process.pid,
    process,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs): Promise<RegExpExecArray> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${tail()}`));
        }, timeoutMs);
        const check = (): void => {
          const match = pattern.exec(text);
          if (match === null && !done) return;
          listeners.delete(check);
          clearTimeout(timer);
          if (match) resolve(match);
          else reject(new Error(`${name} exited before printing ${pattern}:\n${tail()}`));
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 5000): Promise<number> {
      if (!done) {
        signal(process, "SIGTERM");
        const timer = setTimeout(() => signal(process, "SIGKILL"), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return await exited;
    },
  };
  const tail = (): string => text.split("\n").slice(-20).join("\n");
  running.add(child);
  return child;
}

function signal(process: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    process.kill(name);
  } catch {
    // Already gone.
  }
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(2000)));
}

/** Kills every child still running without waiting, for a process that is about to exit. */
export function killAll(): void {
  for (const child of running) signal(child.process, "SIGKILL");
}

/** Runs a child to completion; kills it if it outlives `timeoutMs`. */
export async function run(
  name: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<{ code: number; output: string; millis: number }> {
  const started = performance.now();
  const child = start(name, args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.stop(2000);
  }, options.timeoutMs);
  try {
    const code = await child.exited;
    const millis = performance.now() - started;
    if (timedOut) {
      throw new Error(`${name} took longer than ${options.timeoutMs} ms and was stopped`);
    }
    return { code, output: child.output(), millis };
  } finally {
    clearTimeout(timer);
  }
}

/** Memory figures of a running process from /proc, in bytes. */
export async function memoryOf(pid: number): Promise<{ hwm: number; rss: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (!m) throw new Error(`No ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { hwm: kib("VmHWM"), rss: kib("VmRSS") };
}

/** Polls `url` until it answers 200; throws after `timeoutMs`. */
export async function waitForOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "no answer";
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${last}`);
}
