/**
 * One node's parts assembled: the database, the look-up index and service, licences and
 * participation, for `serve`, the offline commands and tests.
 */
export { databasePath, openNode, openStore } from "./node.ts";
export type { Node } from "./node.ts";
