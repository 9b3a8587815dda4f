/** Options shared by the snapshot and delta appliers. */

/** How an apply runs. */
export interface ApplyOptions {
  /** Signed expiry (ms) of the timestamp the version came with. */
  expires: number | null;
  /** Awaited between chunks so a serving process keeps answering. */
  pause?: () => Promise<void>;
  /** Records per synchronous chunk. */
  batch?: number;
}
