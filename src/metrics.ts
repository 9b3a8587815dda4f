/**
 * A minimal Prometheus registry: counters and histograms with labels, and gauges
 * read at scrape time. Label sets are joined into one map key so that counting a
 * request costs a string concatenation and a map update, nothing more.
 */

const SEP = "\u0000";

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(names: readonly string[], joined: string): string {
  if (names.length === 0) return "";
  const values = joined.split(SEP);
  return `{${names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`).join(",")}}`;
}

interface Metric {
  render(): string;
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labels: readonly string[] = [],
  ) {}

  /** Adds `n` (default 1) to the series with these label values. */
  inc(values: readonly string[] = [], n = 1): void {
    const key = values.length === 1 ? values[0] : values.join(SEP);
    this.#values.set(key, (this.#values.get(key) ?? 0) + n);
  }

  /** Current value of one series (for tests and summaries). */
  get(values: readonly string[] = []): number {
    return this.#values.get(values.join(SEP)) ?? 0;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [key, value] of this.#values) {
      out += `${this.name}${labelText(this.labels, key)} ${value}\n`;
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
    readonly labels: readonly string[] = [],
  ) {
    this.#buckets = [...buckets].sort((a, b) => a - b);
  }

  /** Records one observation. */
  observe(value: number, values: readonly string[] = []): void {
    const key = values.length === 1 ? values[0] : values.join(SEP);
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
      const base = this.labels.length ? labelText(this.labels, key).slice(1, -1) + "," : "";
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
      out += `${this.name}${labelText(this.labels, values.join(SEP))} ${value}\n`;
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
