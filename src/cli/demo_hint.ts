/** The ready-to-paste demo look-up `serve` prints, while it would work. */
import type { Config, Logger } from "../core/mod.ts";
import { DEMO_KEY, DEMO_LOOKUP, demoKeyWorks, isDemo } from "../demo/mod.ts";
import type { Node } from "../node/mod.ts";

/** Prints the demo `curl` when the node holds demo data and the demo key is still accepted. */
export function printDemoHint(node: Node, config: Config, url: string, log: Logger): void {
  // After the operator revoked the demo key, the line would only show a refusal.
  if (!isDemo(node.db) || !demoKeyWorks(node)) return;
  log.info("This node holds demo data and a public demo licence key. Try:");
  // A self-signed certificate is its own CA: curl needs to be told to trust it.
  const cacert = config.tls.cert === null ? "" : ` --cacert ${shellWord(config.tls.cert)}`;
  console.log(`curl -s${cacert} -H "Authorization: Bearer ${DEMO_KEY}" ${url}${DEMO_LOOKUP}`);
}

/** `text` as one shell word, quoted only when it needs to be. */
function shellWord(text: string): string {
  return /^[\w./:-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
