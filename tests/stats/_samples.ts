/** Plumbing for the sample tests: a node with licences on, a client key, uploads. */
import type { ConfigLayer } from "../../src/core/config.ts";
import type { ClientMode } from "../../src/licences/mod.ts";
import {
  acceptStatement,
  addLicence,
  type AuthNode,
  bearer,
  type JsonResponse,
  request,
  startAuthNode,
} from "../licences/_licences.ts";

export { type AuthNode, type JsonResponse, request };

/** A node and the key of a client that chose `mode` (with-statistics unless given). */
export async function sampleNode(
  options: { config?: ConfigLayer; mode?: ClientMode } = {},
): Promise<{ node: AuthNode; key: string } & AsyncDisposable> {
  const node = await startAuthNode({ config: options.config });
  const key = await addLicence(node);
  await acceptStatement(node, key, options.mode ?? "with-statistics");
  return { node, key, [Symbol.asyncDispose]: () => node[Symbol.asyncDispose]() };
}

/** POSTs `bytes` to /v1/samples with `key` and extra headers. */
export async function upload(
  node: AuthNode,
  key: string,
  bytes: Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return await request(node, "/v1/samples", {
    method: "POST",
    headers: { ...bearer(key), "content-type": "application/octet-stream", ...headers },
    body: bytes as BodyInit,
  });
}

/** `n` bytes that differ with `seed`. */
export function bytesOf(n: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return bytes;
}

/** Every file under `dir`, as paths relative to it. */
export async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) found.push(...await filesUnder(path, `${prefix}${entry.name}/`));
      else found.push(`${prefix}${entry.name}`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found.sort();
}
