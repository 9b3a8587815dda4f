/**
 * The `pksn` command's sub-commands; `main.ts` picks one and turns its outcome into an exit code.
 */
export { adminCommand } from "./admin.ts";
export { dbCheckCommand } from "./db_check.ts";
export { feedCommand } from "./feed.ts";
export { importCommand } from "./import.ts";
export { licenseCommand } from "./license.ts";
export { lookupCommand } from "./lookup.ts";
export { serveCommand } from "./serve.ts";
export { participationCommand, statementCommand } from "./statement.ts";
export { statsCommand } from "./stats.ts";
export { syncCommand } from "./sync.ts";
