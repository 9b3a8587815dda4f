/** Prometheus counters of the statistics pipeline. */
import { Counter, type Registry } from "../core/mod.ts";

/** Counters ingestion, repair, rollover and retention update. */
export interface StatsMetrics {
  records: Counter;
  batches: Counter;
  tornLines: Counter;
  archives: Counter;
  retained: Counter;
}

/** Creates the counters, registered in `registry` when one is given (the node's `/metrics`). */
export function createStatsMetrics(registry?: Registry): StatsMetrics {
  const add = (counter: Counter): Counter => registry?.register(counter) ?? counter;
  return {
    records: add(
      new Counter("pksn_stats_records_total", "Statistics records received, by result", [
        "result",
      ]),
    ),
    batches: add(
      new Counter("pksn_stats_batches_total", "Statistics batches received, by result", [
        "result",
      ]),
    ),
    tornLines: add(
      new Counter(
        "pksn_stats_torn_lines_repaired_total",
        "Torn last lines cut off statistics files at start (a crash during a write)",
      ),
    ),
    archives: add(new Counter("pksn_stats_archives_total", "Days packed into TAR archives")),
    retained: add(
      new Counter("pksn_stats_archives_removed_total", "Archives removed by retention, by reason", [
        "reason",
      ]),
    ),
  };
}
