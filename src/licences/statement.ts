/** The KSN Statement: versioned text stored on the node, a default shipped with it. */
// Imported as text, so every form of the program (run, compiled, bundled) carries it.
import SHIPPED_STATEMENT from "./ksn_statement.txt" with { type: "text" };
import { InvalidInputError } from "../core/mod.ts";
import {
  addStatement,
  bumpGeneration,
  currentStatement,
  type DatabaseSync,
  transaction,
} from "../store/mod.ts";
import { isoSeconds } from "./dates.ts";

/** A statement version as clients see it. */
export interface Statement {
  version: number;
  text: string;
  publishedAt: string;
}

const MAX_STATEMENT_BYTES = 256 * 1024;

/** The statement text that ships with pksn. */
export function defaultStatementText(): Promise<string> {
  return Promise.resolve(SHIPPED_STATEMENT);
}

/** Stores the default statement as version 1 if the node has none yet. */
export async function ensureStatement(db: DatabaseSync, now: number): Promise<void> {
  if (currentStatement(db)) return;
  const text = await defaultStatementText();
  transaction(db, () => {
    if (currentStatement(db)) return;
    addStatement(db, text, Math.floor(now / 1000));
    bumpGeneration(db, "settings");
  });
}

/** The current statement. */
export function readStatement(db: DatabaseSync): Statement | undefined {
  const row = currentStatement(db);
  if (!row) return undefined;
  return {
    version: Number(row.version),
    text: row.text,
    publishedAt: isoSeconds(Number(row.loaded_at)),
  };
}

/**
 * Publishes a new statement version. Every client must accept it again before
 * its next look-up, so an identical text is refused rather than silently bumped.
 */
export function publishStatement(db: DatabaseSync, text: string, now: number): number {
  const trimmed = text.trim();
  if (trimmed.length === 0) {
    throw new InvalidInputError("invalid_statement", "Statement text is empty");
  }
  if (new TextEncoder().encode(trimmed).length > MAX_STATEMENT_BYTES) {
    throw new InvalidInputError(
      "invalid_statement",
      `Statement text is larger than ${MAX_STATEMENT_BYTES} bytes`,
    );
  }
  return transaction(db, () => {
    const current = currentStatement(db);
    if (current && current.text.trim() === trimmed) {
      throw new InvalidInputError(
        "invalid_statement",
        `Statement text is the same as the current version ${current.version}`,
      );
    }
    const version = addStatement(db, trimmed + "\n", Math.floor(now / 1000));
    bumpGeneration(db, "settings");
    return version;
  });
}
