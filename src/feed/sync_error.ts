/**
 * The failure of a sync step, with a stable code that goes into the log line
 * and the `pksn_sync_failures_total{reason}` metric.
 */
import { AppError } from "../core/mod.ts";

/** Why a sync step failed; the node keeps serving the version it has. */
export class SyncError extends AppError {
  /** The feed server's `Retry-After` in seconds, when it sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number | null } = {},
  ) {
    super("upstream", code, message, { cause: options.cause });
    this.name = "SyncError";
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }
}
