/** The look-up index saved after a command wrote many rows, for the serving node's next start. */
import { type Config, type Logger, systemClock } from "../core/mod.ts";
import { saveIndexForNextStart } from "../reputation/mod.ts";
import type { DatabaseSync } from "../store/mod.ts";

/**
 * Builds and saves the index. The rows are committed by then: a failure only means the next
 * start scans every key, so it is reported, not raised.
 */
export async function saveIndexAfterWrites(
  db: DatabaseSync,
  config: Config,
  log: Logger,
): Promise<void> {
  const started = performance.now();
  try {
    const index = await saveIndexForNextStart(db, config.dataDir, systemClock.now());
    log.info("Saved the look-up index for the node's next start", {
      keys: index.prefixes.size,
      millis: Math.round(performance.now() - started),
    });
  } catch (err) {
    log.warn(
      `Cannot save the look-up index for the node's next start: ${(err as Error).message}; ` +
        "the node builds it when it starts",
    );
  }
}
