/**
 * The one error family of pksn. Everything that can fail for a reason a caller
 * should see throws an {@link AppError}; the HTTP layer turns it into the single
 * JSON error shape `{"error":{"code","message"}}` and the CLI into one line on stderr.
 */

/** A failure with an HTTP status, a stable machine-readable code and a human message. */
export class AppError extends Error {
  /** HTTP status the failure maps to. */
  readonly status: number;
  /** Stable snake_case code that clients can branch on. */
  readonly code: string;
  /** Extra response headers (for example `Allow` on 405). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

/** Input from outside (a request, a file, a flag) is malformed: HTTP 400. */
export class InvalidInputError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(400, code, message, options);
    this.name = "InvalidInputError";
  }
}

/** Configuration is invalid: the process cannot start. */
export class ConfigError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(500, "config_invalid", message, options);
    this.name = "ConfigError";
  }
}

/** The database cannot be opened, migrated or written. */
export class StoreError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(503, "store_unavailable", message, options);
    this.name = "StoreError";
  }
}

/** The JSON body every error response carries. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Builds the one error body shape. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Quotes a value for an error message: `"value"`, shortened when long. */
export function quote(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : String(value);
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(short);
}
