/**
 * `deno task compile`: the program for the appliance, for x86_64 and aarch64, as an install tree
 * `dist/pksn-ARCH/` that the image copies to `/` as it is.
 *
 * 1. Type-checks the source (with the compiler's own heap, not the node's serving cap).
 * 2. Bundles the whole program into one JavaScript file and writes the commit and build date
 *    into it (`pksn --version`).
 * 3. Per architecture: with a `denort` runtime (`DENORT_BIN` for x86_64, `DENORT_BIN_AARCH64`),
 *    `deno compile` makes `usr/bin/pksn` one self-contained binary. Without one (these machines
 *    cannot download it and no package ships it) it makes the bundled form: the pinned Deno
 *    runtime from npm (`@deno/linux-x64-glibc`, `@deno/linux-arm64-glibc`, checked against the
 *    registry's SHA-512) at `usr/lib/pksn/deno`, the bundle at `usr/lib/pksn/pksn.js`, and the
 *    launcher `usr/bin/pksn` that passes the same V8 flags and permissions.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { launcher, PERMISSIONS, SERVING_V8_FLAGS } from "./compile/launcher.ts";

const ROOT = join(import.meta.dirname!, "..");
const DIST = join(ROOT, "dist");
const CACHE = join(DIST, ".cache");
const DENO_VERSION = Deno.version.deno;
const ARCHES = {
  x86_64: {
    target: "x86_64-unknown-linux-gnu",
    npm: "@deno/linux-x64-glibc",
    denort: "DENORT_BIN",
  },
  aarch64: {
    target: "aarch64-unknown-linux-gnu",
    npm: "@deno/linux-arm64-glibc",
    denort: "DENORT_BIN_AARCH64",
  },
} as const;
type Arch = keyof typeof ARCHES;

function step(message: string): void {
  console.error(`compile: ${message}`);
}

async function run(args: string[], what: string): Promise<string> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), cwd: ROOT, stderr: "inherit" })
    .output();
  if (!out.success) throw new Error(`${what} failed (exit ${out.code})`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** The commit the build comes from, marked when the source differs from it. */
async function commitOf(): Promise<string> {
  try {
    const head = await run(["git", "rev-parse", "--short=12", "HEAD"], "git rev-parse");
    const dirty = await run(
      ["git", "status", "--porcelain", "--", "src", "deno.json"],
      "git status",
    );
    return dirty === "" ? head : `${head}-modified`;
  } catch {
    return "unknown (no git)";
  }
}

/** Bundles src/main.ts and writes the build facts into it. */
async function bundle(out: string): Promise<void> {
  await run(
    [Deno.execPath(), "bundle", "--quiet", "--platform", "deno", "src/main.ts", "-o", out],
    "deno bundle",
  );
  let text = await Deno.readTextFile(out);
  for (
    const [marker, value] of [["__PKSN_BUILD_COMMIT__", await commitOf()], [
      "__PKSN_BUILD_DATE__",
      new Date().toISOString(),
    ]]
  ) {
    if (text.split(marker).length !== 2) {
      throw new Error(`The bundle does not hold ${marker} exactly once`);
    }
    text = text.replace(marker, value);
  }
  await Deno.writeTextFile(out, text);
}

/** The pinned Deno runtime for `arch`, from the npm registry (cached under dist/.cache). */
async function runtime(arch: Arch): Promise<string> {
  const { npm } = ARCHES[arch];
  const cached = join(CACHE, `deno-${DENO_VERSION}-${arch}`);
  try {
    await Deno.stat(cached);
    return cached;
  } catch {
    // Fetched below.
  }
  const meta = await (await fetch(`https://registry.npmjs.org/${npm}/${DENO_VERSION}`)).json();
  const tarball: string = meta?.dist?.tarball;
  const integrity: string = meta?.dist?.integrity;
  if (!tarball || !integrity?.startsWith("sha512-")) {
    throw new Error(`The npm registry has no ${npm}@${DENO_VERSION} with a SHA-512 integrity`);
  }
  step(`fetching ${npm}@${DENO_VERSION}`);
  const bytes = new Uint8Array(await (await fetch(tarball)).arrayBuffer());
  const digest = btoa(
    String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-512", bytes))),
  );
  if (`sha512-${digest}` !== integrity) throw new Error(`${tarball} does not match its integrity`);
  const extract = tar.extract();
  const found = (async (): Promise<Uint8Array | null> => {
    let binary: Uint8Array | null = null;
    for await (const entry of extract) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry) chunks.push(chunk);
      if (entry.header.name === "package/deno") binary = concat(chunks);
    }
    return binary;
  })();
  const unzipped = ReadableStream.from([bytes]).pipeThrough(new DecompressionStream("gzip"));
  for await (const chunk of unzipped) extract.write(chunk);
  extract.end();
  const binary = await found;
  if (binary === null) throw new Error(`${tarball} holds no package/deno`);
  await Deno.mkdir(CACHE, { recursive: true });
  await Deno.writeFile(`${cached}.part`, binary, { mode: 0o755 });
  await Deno.rename(`${cached}.part`, cached);
  return cached;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Builds `dist/pksn-ARCH/`; returns which form it made. */
async function build(arch: Arch, bundled: string, out: string): Promise<string> {
  const tree = join(out, `pksn-${arch}`);
  await Deno.remove(tree, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(tree, "usr/bin"), { recursive: true });
  const denort = Deno.env.get(ARCHES[arch].denort);
  if (denort) {
    await run([
      Deno.execPath(),
      "compile",
      "--quiet",
      "--no-config",
      "--target",
      ARCHES[arch].target,
      `--v8-flags=${SERVING_V8_FLAGS}`,
      ...PERMISSIONS.compiled,
      "--output",
      join(tree, "usr/bin/pksn"),
      bundled,
    ], `deno compile for ${arch}`);
    return `compiled with ${ARCHES[arch].denort}=${denort}`;
  }
  const lib = join(tree, "usr/lib/pksn");
  await Deno.mkdir(lib, { recursive: true });
  await Deno.copyFile(await runtime(arch), join(lib, "deno"));
  await Deno.chmod(join(lib, "deno"), 0o755);
  await Deno.copyFile(bundled, join(lib, "pksn.js"));
  await Deno.writeTextFile(join(tree, "usr/bin/pksn"), launcher(), { mode: 0o755 });
  await Deno.chmod(join(tree, "usr/bin/pksn"), 0o755);
  return `bundled form (no ${
    ARCHES[arch].denort
  }: deno compile needs denort, which these machines cannot download)`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { arch: { type: "string" }, out: { type: "string" } },
  });
  // Tests build into a folder of their own; the runtime cache stays in dist/.cache.
  const out = values.out ?? DIST;
  const arches = (values.arch ?? "x86_64,aarch64").split(",") as Arch[];
  for (const arch of arches) {
    if (!(arch in ARCHES)) {
      console.error(`compile: unknown --arch "${arch}": expected x86_64, aarch64 or both`);
      return 2;
    }
  }
  const started = performance.now();
  step("type-checking");
  await run([Deno.execPath(), "check", "--quiet", "src/main.ts"], "deno check");
  await Deno.mkdir(join(out, ".build"), { recursive: true });
  const bundled = join(out, ".build", "pksn.js");
  step("bundling");
  await bundle(bundled);
  for (const arch of arches) {
    const form = await build(arch, bundled, out);
    step(`${join(out, `pksn-${arch}`)}: ${form}`);
  }
  step(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
