/**
 * A minimal Prometheus registry: counters and histograms with labels, and gauges
 * read at scrape time. Recording is cheap because it runs on every look-up.
 */

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return "";
  return `{${names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`).join(",")}}`;
}

interface Metric {
  render(): string;
}

/**
 * A monotonically increasing count per label set, for up to two labels. Series
 * live in nested maps so that counting allocates nothing once a series exists.
 */
export class Counter implements Metric {
  readonly #values = new Map<string, Map<string, number>>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labels: readonly [] | readonly [string] | readonly [string, string] = [],
  ) {}

  /** Adds `n` to the series with label values `a` and `b` (omit unused labels). */
  inc(a = "", b = "", n = 1): void {
    let inner = this.#values.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.#values.set(a, inner);
    }
    inner.set(b, (inner.get(b) ?? 0) + n);
  }

  /** Current value of one series. */
  get(a = "", b = ""): number {
    return this.#values.get(a)?.get(b) ?? 0;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [a, inner] of this.#values) {
      for (const [b, value] of inner) {
        out += `${this.name}${labelText(this.labels, [a, b])} ${value}\n`;
      }
    }
    return out;
  }
}

/** Observations counted into fixed buckets (seconds, by convention). */
export class Histogram implements Metric {
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, { counts: Float64Array; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    readonly labels: readonly [] | readonly [string] = [],
  ) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }

  /** Records one observation in the series labelled `label` (one label at most). */
  observe(value: number, label = ""): void {
    const key = label;
    let series = this.#series.get(key);
    if (!series) {
      series = { counts: new Float64Array(this.#buckets.length), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    const b = this.#buckets;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]) {
        series.counts[i]++;
        break;
      }
    }
    series.sum += value;
    series.count++;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [key, series] of this.#series) {
      const base = this.labels.length ? labelText(this.labels, [key]).slice(1, -1) + "," : "";
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += series.counts[i];
        out += `${this.name}_bucket{${base}le="${le}"} ${cumulative}\n`;
      });
      out += `${this.name}_bucket{${base}le="+Inf"} ${series.count}\n`;
      const labels = this.labels.length ? `{${base.slice(0, -1)}}` : "";
      out +=
        `${this.name}_sum${labels} ${series.sum}\n${this.name}_count${labels} ${series.count}\n`;
    }
    return out;
  }
}

/** A value read when scraped, one sample per label set the callback returns. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labels: readonly string[],
    readonly read: () => Iterable<[readonly string[], number]>,
  ) {}

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const [values, value] of this.read()) {
      out += `${this.name}${labelText(this.labels, values)} ${value}\n`;
    }
    return out;
  }
}

/** A set of metrics rendered together in the Prometheus text format. */
export class Registry {
  readonly #metrics: Metric[] = [];

  /** Adds a metric and returns it. */
  register<T extends Metric>(metric: T): T {
    this.#metrics.push(metric);
    return metric;
  }

  /** The exposition text (format version 0.0.4). */
  render(): string {
    return this.#metrics.map((m) => m.render()).join("");
  }
}
