/**
 * Progress of a long command on a terminal, on one line that rewrites itself twice a second:
 * lines read, their rate, the share read and the time left (`Progress`, for imports), or the
 * step a sync is at with its own rate and time left (`StepProgress`). Off a terminal it prints
 * nothing: the command's own summary line is the record of what it did.
 */

const EVERY_MS = 500;
const NEWLINE = 10;

/** Where a progress line goes and how it tells time; tests give their own. */
export interface ProgressOptions {
  /** Whether to show anything: the standard error's being a terminal, unless a test says. */
  terminal?: boolean;
  out?: (text: string) => void;
  now?: () => number;
}

/** One line on the terminal that `render()` rewrites twice a second; `close()` clears it. */
abstract class TerminalLine {
  protected readonly now: () => number;
  readonly #out: (text: string) => void;
  #shown = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressOptions) {
    this.#out = options.out ??
      ((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
    this.now = options.now ?? (() => performance.now());
    if (options.terminal ?? Deno.stderr.isTerminal()) {
      this.#timer = setInterval(() => this.#show(), EVERY_MS);
    }
  }

  /** The line as it would show now. */
  abstract text(): string;

  /** Stops showing and clears the line. */
  close(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#shown > 0) this.#out(`\r${" ".repeat(this.#shown)}\r`);
  }

  #show(): void {
    const line = this.text();
    this.#out(`\r${line.padEnd(this.#shown)}`);
    this.#shown = line.length;
  }
}

/** Counts the bytes and lines passing through and shows them. */
export class Progress extends TerminalLine {
  readonly #label: string;
  readonly #total: number | null;
  readonly #started: number;
  #bytes = 0;
  #lines = 0;

  /** `total` is the input's size in bytes when known. */
  constructor(label: string, options: ProgressOptions & { total?: number | null } = {}) {
    super(options);
    this.#label = label;
    this.#total = options.total ?? null;
    this.#started = this.now();
  }

  /** A stream that passes `input` through, counting it. */
  watch(input: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    return input.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          this.#bytes += chunk.length;
          for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) {
            this.#lines++;
          }
          controller.enqueue(chunk);
        },
      }),
    );
  }

  /** Lines that passed through so far (the whole input's, once it was read to the end). */
  get lines(): number {
    return this.#lines;
  }

  text(): string {
    const seconds = Math.max(0.001, (this.now() - this.#started) / 1000);
    const rate = Math.round(this.#lines / seconds);
    let line = `${this.#label}: ${int(this.#lines)} lines (${int(rate)}/s)`;
    if (this.#total !== null && this.#total > 0) {
      line += `, ${shareOf(this.#bytes, this.#total, seconds, mib(this.#total))}`;
    }
    return line;
  }
}

/** One step of a run with a known size: a download in bytes, an apply in records. */
export interface StepEvent {
  step: "download" | "apply";
  /** The file the step works on. */
  name: string;
  done: number;
  total: number;
}

/** Shows the step a multi-step run (a sync) is at, with its own rate and time left. */
export class StepProgress extends TerminalLine {
  #event: StepEvent | null = null;
  #started = 0;

  constructor(options: ProgressOptions = {}) {
    super(options);
  }

  /** Takes the run's latest event; a new step or file starts its own clock. */
  update(event: StepEvent): void {
    if (this.#event?.step !== event.step || this.#event.name !== event.name) {
      this.#started = this.now();
    }
    this.#event = event;
  }

  text(): string {
    const event = this.#event;
    if (event === null) return "Checking the feed's signed metadata";
    const seconds = Math.max(0.001, (this.now() - this.#started) / 1000);
    // Feed files are named by their hash too; on one terminal line the version says enough.
    const name = event.name.replace(/\.[0-9a-f]{64}\./, ".");
    if (event.step === "download") {
      const rate = mib(event.done / seconds);
      return `Downloading ${name}: ${
        shareOf(event.done, event.total, seconds, mib(event.total))
      } (${rate}/s)`;
    }
    const rate = Math.round(event.done / seconds);
    return `Applying ${name}: ${int(event.done)} of ${int(event.total)} records (${int(rate)}/s), ${
      shareOf(event.done, event.total, seconds, null)
    }`;
  }
}

/** "40% of 1.2 MiB, about 3 s left": the share done and, once it says something, the time left. */
function shareOf(done: number, total: number, seconds: number, of: string | null): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  let text = `${Math.floor(share * 100)}%${of === null ? "" : ` of ${of}`}`;
  if (share > 0.01 && share < 1) text += `, about ${duration(seconds * (1 - share) / share)} left`;
  return text;
}

function int(n: number): string {
  return n.toLocaleString("en-US");
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
