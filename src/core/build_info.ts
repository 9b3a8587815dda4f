/**
 * What `pksn --version` reports. `deno task compile` writes the commit and the build date into
 * the bundled program in place of the two markers below; run from source, they stay markers and
 * the report says so.
 */

/** The release this source tree is. */
export const VERSION = "0.5.0";

const COMMIT = "__PKSN_BUILD_COMMIT__";
const DATE = "__PKSN_BUILD_DATE__";

/** The version report: one line a fact, the same in every form of the program. */
export function versionText(): string {
  const built = !COMMIT.startsWith("__");
  return [
    `pksn ${VERSION}`,
    `commit ${built ? COMMIT : "unknown (run from source)"}`,
    `built ${built ? DATE : "unknown (run from source)"}`,
    `deno ${Deno.version.deno} (V8 ${Deno.version.v8}, ${Deno.build.target})`,
  ].join("\n");
}
