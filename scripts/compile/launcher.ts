/**
 * The flags every form of the program runs with: the serving V8 heap limits, and the narrowest
 * permissions that work. `serve` is the long-running, network-facing process: it may write
 * only its data folder and read only that and the config folder. The other commands are the
 * operator's tools (import a file from anywhere, export to anywhere), so they may read and
 * write where the operator says; both may read only the environment variables pksn reads.
 */
import { CONFIG_ENV_NAMES } from "../../src/cli/load_config.ts";

/**
 * The V8 flags of `deno task start` and every build: a 1 MB young generation and a 96 MB old one
 * keep the heap small, and no allocation-site pretenuring. Without the last, V8 learns from one
 * batch look-up (whose thousand answers live until the batch is answered) to allocate every later
 * look-up's short-lived answer in the old generation, where only full collections free it:
 * single look-ups after one batch ran 12% slower, with a p99 of 5.3 ms instead of 1.1 ms.
 */
export const SERVING_V8_FLAGS =
  "--max-semi-space-size=1,--max-old-space-size=96,--no-allocation-site-pretenuring";

/** Variables the program reads: configuration, and the operator's name for the audit log. */
export const ENV_NAMES: readonly string[] = [
  ...CONFIG_ENV_NAMES,
  "SUDO_USER",
  "USER",
  "PKSN_LAUNCHER_FOLDERS",
];

const COMMON = [
  "--allow-net",
  `--allow-env=${ENV_NAMES.join(",")}`,
  // The admin API's allowed origins include the machine's own addresses, and new files are
  // made private with umask, which Deno grants only with all of --allow-sys (read-only facts).
  "--allow-sys",
];

/** Permission flags of each form. */
export const PERMISSIONS = {
  /**
   * A compiled binary has one fixed set for every command: the appliance's folders only, so
   * files to import or export go through /var/lib/pksn.
   */
  compiled: [...COMMON, "--allow-read=/var/lib/pksn,/etc/pksn", "--allow-write=/var/lib/pksn"],
} as const;

/** The POSIX sh launcher installed as /usr/bin/pksn in the bundled form. */
export function launcher(): string {
  return `#!/bin/sh
# pksn: the pinned Deno runtime running the bundled program (see scripts/compile.ts) with the
# serving V8 flags and only the permissions the node needs.
set -eu
here=$(dirname "$(readlink -f "$0")")
lib="$here/../lib/pksn"
data="\${PKSN_DATA:-/var/lib/pksn}"
config="\${PKSN_CONFIG:-/etc/pksn/config.json}"
# --data and --config on the command line win over the environment, as in the program.
previous=
for arg in "$@"; do
  case "$previous" in
    --data) data=$arg ;;
    --config) config=$arg ;;
  esac
  case "$arg" in
    --data=*) data=\${arg#--data=} ;;
    --config=*) config=\${arg#--config=} ;;
  esac
  previous=$arg
done
config_dir=$(dirname "$config")
# Named for the program, so a refusal can say which folders this run may use.
export PKSN_LAUNCHER_FOLDERS="write $data; read $data, $config_dir"
if [ "\${1:-}" = "serve" ]; then
  # The network-facing process: its data folder and its configuration, nothing else; and its
  # own program, which the mirror's apply worker loads (src/mirror/apply_worker.ts).
  files="--allow-read=$data,$config_dir,$lib/pksn.js --allow-write=$data"
else
  # The operator's tools read and write where the operator points them.
  files="--allow-read --allow-write"
fi
# shellcheck disable=SC2086 # $files holds two flags on purpose
exec "$lib/deno" run --no-config --no-lock --no-prompt --quiet \\
  --v8-flags=${SERVING_V8_FLAGS} \\
  ${COMMON.join(" ")} $files \\
  "$lib/pksn.js" "$@"
`;
}
