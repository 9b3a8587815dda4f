/**
 * Change counters. Each writer bumps the counter of what it changed, inside its
 * own transaction; a serving node polls them (cheap) to know which in-memory
 * state to rebuild after another process wrote.
 */
import type { DatabaseSync } from "node:sqlite";

/** What the counters track. */
export type GenerationName = "entries" | "licences" | "settings" | "proxy";

/** Adds one to a counter; call inside the writing transaction. */
export function bumpGeneration(db: DatabaseSync, name: GenerationName): void {
  db.prepare("UPDATE generation SET value = value + 1 WHERE name = ?").run(name);
}

/** Reads every counter. */
export function readGenerations(db: DatabaseSync): Record<GenerationName, number> {
  const out = { entries: 0, licences: 0, settings: 0, proxy: 0 };
  for (const row of db.prepare("SELECT name, value FROM generation").all()) {
    const { name, value } = row as { name: GenerationName; value: number };
    out[name] = Number(value);
  }
  return out;
}
