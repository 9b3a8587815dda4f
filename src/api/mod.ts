/**
 * The public HTTP API: look-ups, participation, statistics, samples, the feed tree and health, as
 * one Hono app; `cli/serve` mounts the admin API beside it.
 */
export { createApp } from "./app.ts";
export type { LookupProxy } from "./objects.ts";
