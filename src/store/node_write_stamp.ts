/**
 * A cheap sign that the database may have changed: a serving node polls it on
 * a timer and reads the change counters only when it moved.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Reads `PRAGMA data_version` and `total_changes()` of one connection; statements prepared once. */
export class WriteStamp {
  readonly #dataVersion: StatementSync;
  readonly #changes: StatementSync;

  constructor(db: DatabaseSync) {
    this.#dataVersion = db.prepare("PRAGMA data_version");
    this.#changes = db.prepare("SELECT total_changes() AS n");
  }

  /** A text that differs from the last one read after any commit by any connection. */
  read(): string {
    // data_version moves when another connection commits; total_changes when this one writes.
    return `${(this.#dataVersion.get() as { data_version: number }).data_version}/${
      (this.#changes.get() as { n: number }).n
    }`;
  }
}
