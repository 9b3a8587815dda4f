/**
 * The admin routes of the node's operation as the OpenAPI document describes them: the mirror
 * sync, the appliance upgrade, statistics and samples.
 */
import { z } from "zod";
import { errorAnswer, type RouteDoc } from "../http/mod.ts";
import { samplesQuery } from "./samples_routes.ts";
import { SESSION_REFUSALS } from "./_openapi_shared.ts";

const OPERATIONS = "Admin: sync, upgrade, statistics and samples";
const TAR = "application/x-tar";

/** The sync, upgrade, statistics and samples admin routes, in the order their examples run. */
export const OPERATIONS_ADMIN_DOCS: readonly RouteDoc[] = [
  {
    method: "POST",
    path: "/admin/api/sync",
    tag: OPERATIONS,
    summary: "Run a mirror sync now (or join the one under way)",
    security: "session",
    responses: {
      200: {
        description: "The run's outcome",
        schema: z.strictObject({ result: z.looseObject({}) }),
      },
      404: errorAnswer("The node follows no feed: `sync_not_configured`"),
      502: errorAnswer("The sync failed: `sync_failed` and the feed's own codes"),
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "a node that follows no feed", status: 404 }],
  },
  {
    method: "POST",
    path: "/admin/api/sync/bundle",
    tag: OPERATIONS,
    summary: "Apply an offline bundle uploaded as the body",
    description: "Verified against `sync.root` as `pksn feed import-bundle` does; at most " +
      "2 × `sync.maxFileMiB`.",
    security: "session",
    body: { contentType: TAR },
    responses: {
      200: {
        description: "What was applied",
        schema: z.strictObject({ result: z.looseObject({}) }),
      },
      409: errorAnswer("No trusted root to verify it with: `sync_root_missing`"),
      413: errorAnswer("Too large: `bundle_too_large`"),
      415: errorAnswer("Not a TAR: `unsupported_media_type`"),
      ...SESSION_REFUSALS,
    },
    examples: [{
      summary: "a node without sync.root",
      headers: { "content-type": TAR },
      body: "not a bundle",
      status: 409,
    }],
  },
  {
    method: "GET",
    path: "/admin/api/upgrade",
    tag: OPERATIONS,
    summary: "The appliance upgrade's state",
    security: "session",
    responses: {
      200: {
        description: "This version, the last status `pksn-upgrade` wrote, and whether an " +
          "upload would be taken",
        schema: z.strictObject({
          running: z.string(),
          status: z.looseObject({ state: z.string() }).nullable(),
          problem: z.string().nullable(),
          acceptsUpload: z.boolean(),
        }),
      },
      404: errorAnswer("Upgrades are off (`upgrade.enabled`): `upgrade_not_enabled`"),
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "no upgrade yet", status: 200 }],
  },
  {
    method: "POST",
    path: "/admin/api/upgrade",
    tag: OPERATIONS,
    summary: "Upload an upgrade bundle for the appliance to verify and apply",
    security: "session",
    body: { contentType: "application/octet-stream" },
    responses: {
      202: {
        description: "Stored for the appliance; its status",
        schema: z.strictObject({ status: z.looseObject({ state: z.string() }) }),
      },
      404: errorAnswer("Upgrades are off (`upgrade.enabled`): `upgrade_not_enabled`"),
      409: errorAnswer("Another upgrade is under way: `upgrade_in_progress`"),
      413: errorAnswer("Over `upgrade.maxMiB`: `upgrade_too_large`"),
      415: errorAnswer("Not `application/octet-stream`: `unsupported_media_type`"),
      ...SESSION_REFUSALS,
    },
    examples: [{
      summary: "sent as JSON",
      headers: { "content-type": "application/json" },
      body: "{}",
      status: 415,
    }],
  },
  {
    method: "GET",
    path: "/admin/api/stats",
    tag: OPERATIONS,
    summary: "The statistics days with their counts",
    security: "session",
    responses: {
      200: {
        description: "Today (UTC) and the days kept",
        schema: z.strictObject({
          today: z.string(),
          days: z.array(z.strictObject({
            date: z.string(),
            records: z.number().int(),
            bytes: z.number().int(),
            archived: z.boolean(),
            archiveBytes: z.number().int().optional(),
          })),
        }),
      },
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "the days", status: 200 }],
  },
  {
    method: "GET",
    path: "/admin/api/stats/:date",
    tag: OPERATIONS,
    summary: "One day's counts by verdict and threat",
    security: "session",
    params: z.object({ date: z.string().meta({ description: "YYYY-MM-DD" }) }),
    responses: {
      200: {
        description: "The counts, shaped as an archive's manifest",
        schema: z.strictObject({
          date: z.string(),
          archived: z.boolean(),
          records: z.number().int(),
          bytes: z.number().int(),
          verdicts: z.record(z.string(), z.number().int()),
          threats: z.record(z.string(), z.number().int()),
          otherThreats: z.strictObject({ records: z.number().int(), distinct: z.number().int() }),
          countsExact: z.boolean(),
          sha256: z.string().optional(),
        }),
      },
      400: errorAnswer("Not a date: `invalid_date`"),
      404: errorAnswer("No statistics that day: `stats_not_found`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "a day with records", params: { date: "2026-11-28" }, status: 200 },
      { summary: "a day without", params: { date: "2026-01-01" }, status: 404 },
      { summary: "not a date", params: { date: "yesterday" }, status: 400 },
    ],
  },
  {
    method: "GET",
    path: "/admin/api/stats/:date/archive",
    tag: OPERATIONS,
    summary: "A packed day's TAR archive",
    security: "session",
    params: z.object({ date: z.string().meta({ description: "YYYY-MM-DD, before today" }) }),
    responses: {
      200: { description: "The TAR, as an attachment", contentType: TAR },
      400: errorAnswer("Not a date: `invalid_date`"),
      404: errorAnswer("Today, or a day not packed: `stats_not_found`"),
      ...SESSION_REFUSALS,
    },
    examples: [{ summary: "today, not packed yet", params: { date: "2026-11-28" }, status: 404 }],
  },
  {
    method: "GET",
    path: "/admin/api/samples",
    tag: OPERATIONS,
    summary: "The samples in the quarantine, newest first",
    security: "session",
    query: samplesQuery,
    responses: {
      200: {
        description: "The samples, and how many and how many bytes are kept in all",
        schema: z.strictObject({
          count: z.number().int(),
          bytes: z.number().int(),
          samples: z.array(z.strictObject({
            sha256: z.string(),
            size: z.number().int(),
            receivedAt: z.string(),
            extension: z.string().nullable(),
            detection: z.string().nullable(),
            queued: z.boolean(),
            attempts: z.number().int(),
            lastError: z.string().nullable(),
          })),
        }),
      },
      400: errorAnswer("A bad limit: `invalid_request`"),
      ...SESSION_REFUSALS,
    },
    examples: [
      { summary: "the last ten", query: { limit: "10" }, status: 200 },
      { summary: "a limit of zero", query: { limit: "0" }, status: 400 },
    ],
  },
];
