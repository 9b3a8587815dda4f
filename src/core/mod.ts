/**
 * What every folder may use: errors, logging, the clock, metrics, configuration, encodings, retry
 * timing, text lines, CSV fields and named text files. Imports nothing else of pksn.
 */
export { systemClock } from "./clock.ts";
export type { Clock } from "./clock.ts";
export {
  layerFromEnv,
  layerFromFile,
  layerFromFlags,
  parseListen,
  resolveConfig,
} from "./config.ts";
export type { Config, ConfigLayer } from "./config.ts";
export { headerColumns, parseCsvLine } from "./csv.ts";
export { fromBase64, fromHex, hexDigitValue, toBase64, toBase64Url, toHex } from "./encoding.ts";
export {
  AppError,
  ConfigError,
  errorBody,
  InvalidInputError,
  quote,
  StoreError,
  UsageError,
} from "./errors.ts";
export type { ErrorKind } from "./errors.ts";
export { readLines } from "./lines.ts";
export type { NumberedLine } from "./lines.ts";
export { createLogger } from "./log.ts";
export type { Logger } from "./log.ts";
export { Counter, Gauge, Histogram, Registry } from "./metrics.ts";
export { backoffCeiling, MAX_BACKOFF_MS, parseRetryAfter, retryDelayMs } from "./retry.ts";
export { readCaCert, readNamedFile } from "./text_file.ts";
