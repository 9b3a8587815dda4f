/**
 * Progress of a long command on a terminal: lines read, lines a second, the share of the input
 * read and the time left, on one line that rewrites itself twice a second. Off a terminal it
 * prints nothing: the command's own summary line is the record of what it did.
 */

const EVERY_MS = 500;
const NEWLINE = 10;

/** Counts the bytes and lines passing through and shows them; `close()` clears the line. */
export class Progress {
  readonly #label: string;
  readonly #total: number | null;
  readonly #out: (text: string) => void;
  readonly #now: () => number;
  readonly #started: number;
  #bytes = 0;
  #lines = 0;
  #shown = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * `total` is the input's size in bytes when known; `terminal` says whether to show anything
   * (the standard error's, unless a test says).
   */
  constructor(
    label: string,
    options: {
      total?: number | null;
      terminal?: boolean;
      out?: (text: string) => void;
      now?: () => number;
    } = {},
  ) {
    this.#label = label;
    this.#total = options.total ?? null;
    this.#out = options.out ??
      ((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
    this.#now = options.now ?? (() => performance.now());
    this.#started = this.#now();
    if (options.terminal ?? Deno.stderr.isTerminal()) {
      this.#timer = setInterval(() => this.#show(), EVERY_MS);
    }
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

  /** The line as it would show now. */
  text(): string {
    const seconds = Math.max(0.001, (this.#now() - this.#started) / 1000);
    const rate = Math.round(this.#lines / seconds);
    let line = `${this.#label}: ${int(this.#lines)} lines (${int(rate)}/s)`;
    if (this.#total !== null && this.#total > 0) {
      const share = Math.min(1, this.#bytes / this.#total);
      line += `, ${Math.floor(share * 100)}% of ${mib(this.#total)}`;
      if (share > 0.01 && share < 1) {
        line += `, about ${duration(seconds * (1 - share) / share)} left`;
      }
    }
    return line;
  }

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
