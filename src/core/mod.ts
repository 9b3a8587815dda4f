/**
 * What every folder may use: errors, logging, the clock, metrics, configuration, encodings, retry
 * timing, text lines, CSV fields, named text files, bounded uploads and workers running the program's
 * own modules. Imports nothing else of pksn.
 */
export { type Clock, isoSeconds, systemClock } from "./clock.ts";
export {
  type Config,
  type ConfigLayer,
  ENV_KEYS,
  layerFromEnv,
  layerFromFile,
  layerFromFlags,
  parseListen,
  resolveConfig,
} from "./config.ts";
export { type CsvRecord, csvRecords, headerColumns, parseCsvLine } from "./csv.ts";
export { fromBase64, fromHex, hexDigitValue, toBase64, toBase64Url, toHex } from "./encoding.ts";
export { Gate } from "./gate.ts";
export {
  AppError,
  ConfigError,
  errorBody,
  type ErrorKind,
  InvalidInputError,
  quote,
  StoreError,
  UsageError,
} from "./errors.ts";
export { type NumberedLine, readLines } from "./lines.ts";
export { createLogger, type Logger } from "./log.ts";
export { Counter, Gauge, Histogram, Registry } from "./metrics.ts";
export { backoffCeiling, MAX_BACKOFF_MS, parseRetryAfter, retryDelayMs } from "./retry.ts";
export { readCaCert, readNamedFile } from "./text_file.ts";
export { type UploadLimits, writeUpload } from "./upload_file.ts";
export { MinuteCounts } from "./minute_counts.ts";
export { VERSION, versionText } from "./build_info.ts";
export { closest } from "./suggest.ts";
export { type ProgramWorker, startProgramWorker } from "./program_worker.ts";
