/**
 * The failure of a sync step, with a stable code that goes into the log line
 * and the `pksn_sync_failures_total{reason}` metric.
 */
import { AppError } from "../errors.ts";

/** Why a sync step failed; the node keeps serving the version it has. */
export class SyncError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(502, code, message, options);
    this.name = "SyncError";
  }
}
