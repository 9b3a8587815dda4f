/**
 * What `pksn --version` reports. `deno task compile` writes the commit and the build date into
 * the bundled program in place of the two markers below; run from source, they stay markers and
 * the report says so.
 */

/** The release this source tree is. */
export const VERSION = "0.5.0";

const COMMIT = "__PKSN_BUILD_COMMIT__";
const DATE = "__PKSN_BUILD_DATE__";

/**
 * The version report: one line a fact, the same in every form of the program. `schema` is the
 * newest database schema this program knows: an upgrade tool compares it with a data folder's
 * to refuse a downgrade the older program could not open.
 */
export function versionText(schema: number): string {
  const built = !COMMIT.startsWith("__");
  return [
    `pksn ${VERSION}`,
    `commit ${built ? COMMIT : "unknown (run from source)"}`,
    `built ${built ? DATE : "unknown (run from source)"}`,
    `schema ${schema}`,
    `deno ${Deno.version.deno} (V8 ${Deno.version.v8}, ${Deno.build.target})`,
  ].join("\n");
}
