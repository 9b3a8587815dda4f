/**
 * One node's parts assembled: the database, the look-up index and service, licences and
 * participation, for `serve`, the offline commands and tests.
 */
export { databasePath, type Node, openNode, openStore } from "./node.ts";
