/**
 * The upgrade status file, `DATA/upgrade/status.json`: the one place the node (which takes the
 * upload) and the appliance's root-owned `pksn-upgrade` (which verifies it, writes the other
 * root slot, reboots, commits or rolls back) tell the operator how an upgrade goes. Either side
 * replaces the whole file atomically; the shape is fixed by image/README.md.
 */
import { z } from "zod";

/** Where an upgrade is, in the order it gets there. */
export const UPGRADE_STATES = [
  "uploaded",
  "verifying",
  "writing",
  "rebooting",
  "trial",
  "committed",
  "failed",
  "rolled-back",
] as const;

/**
 * States in which the appliance is still working on an upgrade: another one must wait.
 * (`uploaded` is busy only while the bundle file is there to pick up.)
 */
export const BUSY_STATES: ReadonlySet<string> = new Set([
  "verifying",
  "writing",
  "rebooting",
  "trial",
]);

const version = z.string().min(1).max(100).nullable();

/** The status file as both sides write it. */
export const upgradeStatusSchema = z.strictObject({
  state: z.enum(UPGRADE_STATES),
  message: z.string().max(2000),
  at: z.iso.datetime({ offset: true }),
  from: version,
  to: version,
  slot: z.enum(["a", "b"]).nullable(),
});

/** One status, as read from or written to the file. */
export type UpgradeStatus = z.infer<typeof upgradeStatusSchema>;
