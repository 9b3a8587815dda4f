/** Options every feed converter accepts. */
import type { Verdict } from "../reputation/mod.ts";

/** Options for a feed converter; each format documents which it uses. */
export interface FeedOptions {
  /** Verdict for formats that carry none (plain lists); default "malicious". */
  verdict?: Exclude<Verdict, "unknown">;
  /** Source name to store instead of the format's own ("urlhaus", ...). */
  source?: string;
}
