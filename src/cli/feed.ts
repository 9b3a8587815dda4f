/** `pksn feed …`: publishing a signed mirror feed, and carrying it to nodes offline. */
import { type Command, defineGroup, listCommands } from "./command.ts";
import { initCommand, keygenCommand, rotateRootCommand } from "./feed_keys.ts";
import { buildCommand } from "./feed_build.ts";
import { exportCommand, importBundleCommand } from "./feed_bundle.ts";

const FEED_COMMANDS: readonly Command[] = [
  keygenCommand,
  initCommand,
  rotateRootCommand,
  buildCommand,
  exportCommand,
  importBundleCommand,
];

const FEED_HELP = `Usage: pksn feed COMMAND [options]

Publishes this node's kind of mirror as a signed feed that other nodes sync
from (a folder of plain files any web server can serve), and carries a feed to
nodes without a network path to it as an offline bundle.

Commands:
${listCommands(FEED_COMMANDS, 17)}

Run "pksn feed COMMAND --help" for a command's options.
`;

/** `pksn feed …`. */
export const feedCommand: Command = defineGroup({
  name: "feed",
  summary: "publish a signed mirror feed; export and import offline bundles",
  help: FEED_HELP,
  commands: FEED_COMMANDS,
});
