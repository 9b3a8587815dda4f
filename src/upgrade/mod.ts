/**
 * The node's half of an appliance upgrade: taking the uploaded bundle into `DATA/upgrade/` and
 * reporting the status the appliance's `pksn-upgrade` writes there.
 */
export { type UpgradeReport, UpgradeSpool } from "./spool.ts";
export { UPGRADE_STATES, type UpgradeStatus, upgradeStatusSchema } from "./status.ts";
