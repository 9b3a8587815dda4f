/**
 * The one error family of pksn. Everything that can fail for a reason a caller should see
 * throws an {@link AppError}: a stable `code` clients and scripts branch on, a `kind` that says
 * what sort of failure it is, and details such as `retryAfter`. No error knows HTTP: http/
 * maps a kind to a status and headers and answers `{"error":{"code","message"}}`; main.ts
 * maps a kind to an exit code and prints one line on stderr.
 */

/** What sort of failure an error is. */
export type ErrorKind =
  /** The input is malformed (a request, a file, a flag's value). */
  | "invalid"
  /** The command line itself is wrong: exit code 2 and a pointer to `--help`. */
  | "usage"
  /** No credentials, or credentials that are not accepted. */
  | "unauthorized"
  /** Credentials accepted, but they do not allow this. */
  | "forbidden"
  | "not_found"
  /** The resource exists, but not with this method. */
  | "not_allowed"
  /** The request conflicts with the current state. */
  | "conflict"
  | "too_large"
  /** A body in a type or encoding the node does not take. */
  | "unsupported"
  /** A byte range outside the resource. */
  | "out_of_range"
  | "rate_limited"
  /** A place to keep data is full. */
  | "full"
  /** A service this node depends on (a parent, a feed) failed. */
  | "upstream"
  /** The node cannot do this now (its database, a lock); trying later may work. */
  | "unavailable"
  /** The node's own fault or configuration. */
  | "internal";

/** What an error may carry besides its message, for the transport to turn into headers. */
export interface ErrorDetails {
  /** Seconds before the caller may retry. */
  retryAfter?: number;
  /** The methods the resource allows (for `not_allowed`). */
  allow?: readonly string[];
  /** The caller must present a licence key as a bearer token (for `unauthorized`). */
  bearer?: boolean;
  /** The length of the resource a byte range missed (for `out_of_range`). */
  size?: number;
}

/** A failure with a kind, a stable machine-readable code and a human message. */
export class AppError extends Error {
  /** What sort of failure this is. */
  readonly kind: ErrorKind;
  /** Stable snake_case code that clients can branch on. */
  readonly code: string;
  /** What the transport may turn into headers. */
  readonly details: Readonly<ErrorDetails>;

  constructor(
    kind: ErrorKind,
    code: string,
    message: string,
    options: ErrorDetails & { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    const { cause: _, ...details } = options;
    this.details = details;
  }
}

/** Input from outside (a request, a file, a flag) is malformed. */
export class InvalidInputError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super("invalid", code, message, options);
    this.name = "InvalidInputError";
  }
}

/** Configuration is invalid: the process cannot start. */
export class ConfigError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("internal", "config_invalid", message, options);
    this.name = "ConfigError";
  }
}

/** The database cannot be opened, migrated or written. */
export class StoreError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("unavailable", "store_unavailable", message, options);
    this.name = "StoreError";
  }
}

/** A wrong command line: exit code 2 and a pointer to `--help`. */
export class UsageError extends AppError {
  constructor(message: string) {
    super("usage", "usage", message);
    this.name = "UsageError";
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
