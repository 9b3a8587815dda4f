/**
 * Following a feed: sources (HTTP, folder, bundle), verified copies, staging, the delta plan, the
 * schedule and freshness, and the tree this node serves on.
 */
export { exportBundle, openBundle } from "./bundle.ts";
export { syncPaths, type SyncProgressEvent, type SyncRunResult } from "./client.ts";
export type { FeedSource } from "./feed_source.ts";
export type { MirrorModeHolder } from "./freshness.ts";
export { readShippedRoot, type RecentRun, SyncService } from "./service.ts";
