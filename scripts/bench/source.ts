/**
 * Which source the figures belong to. Others may be editing src/ while the bench
 * runs, so the JSON carries a digest of src/ and deno.json next to the git head.
 */
import { join, relative } from "node:path";

/** A fingerprint of the measured source tree. */
export interface SourceState {
  /** `git rev-parse HEAD`, or null before the first commit. */
  gitHead: string | null;
  /** Whether `git status --porcelain` lists changes under src/. */
  srcDirty: boolean | null;
  /** SHA-256 over every file under src/ and deno.json (path and bytes, sorted by path). */
  srcSha256: string;
  files: number;
}

async function git(root: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", {
      args,
      cwd: root,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

async function listFiles(dir: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await listFiles(path, out);
    else if (entry.isFile) out.push(path);
  }
}

/** Fingerprints the source under `root` as it is now. */
export async function describeSource(root: string): Promise<SourceState> {
  const paths: string[] = [join(root, "deno.json")];
  await listFiles(join(root, "src"), paths);
  paths.sort();
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const path of paths) {
    parts.push(encoder.encode(`${relative(root, path)}\0`), await Deno.readFile(path));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.byteLength;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  const status = await git(root, ["status", "--porcelain", "--", "src", "deno.json"]);
  return {
    gitHead: await git(root, ["rev-parse", "HEAD"]),
    srcDirty: status === null ? null : status.length > 0,
    srcSha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    files: paths.length,
  };
}
