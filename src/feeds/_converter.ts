/** What a feed format's reader is to the import: a converter of lines into record objects. */
import { InvalidInputError } from "../core/mod.ts";

/**
 * Turns the lines of another format (a public feed) into record objects for the record schema,
 * so validation, keys and the transaction stay with the import.
 */
export interface RecordConverter {
  /**
   * The record a line holds, or `undefined` for a line that holds none (a
   * comment, the header row). Throws an AppError for a bad line, or a
   * {@link HeaderError} when no later line can be read.
   */
  convert(text: string, line: number): unknown;
}

/** A header row a converter cannot read: reported once, at its own line, and the read stops. */
export class HeaderError extends InvalidInputError {
  /** The line the header is on. */
  readonly line: number;

  constructor(line: number, message: string) {
    super("invalid_header", message);
    this.name = "HeaderError";
    this.line = line;
  }
}
