/** `POST /admin/api/sync/bundle`: an offline bundle uploaded to a serving node is verified and applied. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateKeyFile } from "../../src/feed/signing.ts";
import { ROOT, runCli, startTestNode, tempDir } from "../_helpers.ts";
import { adminSession, api, assertError } from "./_admin.ts";

const URLHAUS = join(ROOT, "tests/testdata/feeds/urlhaus.csv");

/** A one-version feed built from the URLhaus test export, and its bundle. */
async function bundleOf(dir: string): Promise<{ bundle: string; root: string }> {
  const key = async (name: string): Promise<string> => {
    const path = join(dir, name);
    await Deno.writeTextFile(path, JSON.stringify(await generateKeyFile()));
    return path;
  };
  const out = join(dir, "feed");
  const rootKey = await key("root.key");
  const timestampKey = await key("timestamp.key");
  for (
    const args of [
      ["feed", "init", "--out", out, "--root-key", rootKey, "--timestamp-key", timestampKey],
      [
        "feed",
        "build",
        "--out",
        out,
        "--timestamp-key",
        timestampKey,
        "--input",
        URLHAUS,
        "--format",
        "urlhaus",
      ],
      ["feed", "export", "--feed", out, "--out", join(dir, "feed.tar")],
    ]
  ) {
    const run = await runCli(args);
    assert.equal(run.code, 0, run.stderr);
  }
  return { bundle: join(dir, "feed.tar"), root: join(out, "root.1.json") };
}

Deno.test("an offline bundle uploaded through the admin API is verified, applied and answered at once", async () => {
  await using dir = await tempDir();
  const { bundle, root } = await bundleOf(dir.path);
  await using node = await startTestNode({ config: { sync: { root } } });
  const { cookie, csrf } = await adminSession(node);
  const upload = (body: BodyInit, type = "application/x-tar"): Promise<Response> =>
    fetch(`${node.url}/admin/api/sync/bundle`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, "content-type": type },
      body,
    });

  const res = await upload(await Deno.readFile(bundle));
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.result.outcome, "updated");
  assert.equal(body.result.to, 1);
  assert.ok(node.serving.node.index.current.prefixes.size > 0, "the index was rebuilt");
  const again = await (await upload(await Deno.readFile(bundle))).json();
  assert.equal(again.result.outcome, "current");

  const damaged = await Deno.readFile(bundle);
  damaged[damaged.length >> 1] ^= 0xff;
  const refused = await upload(damaged);
  assert.ok(refused.status >= 400, `a damaged bundle is refused: ${refused.status}`);
  await refused.body?.cancel();
  const wrongType = await upload("x", "application/json");
  assert.equal(wrongType.status, 415);
  await wrongType.body?.cancel();
  const leftovers = [];
  for await (const e of Deno.readDir(join(node.dataDir, "uploads"))) leftovers.push(e.name);
  assert.deepEqual(leftovers, [], "uploads are removed once applied or refused");
});

Deno.test("a bundle upload needs the session's CSRF token, and a node without sync.root says so", async () => {
  await using node = await startTestNode();
  const { cookie, csrf } = await adminSession(node);
  assertError(
    await api(node, "/admin/api/sync/bundle", { method: "POST", cookie }),
    403,
    "csrf_failed",
  );
  const res = await fetch(`${node.url}/admin/api/sync/bundle`, {
    method: "POST",
    headers: { cookie, "x-csrf-token": csrf, "content-type": "application/x-tar" },
    body: "not a tar",
  });
  const body = await res.json();
  assert.equal(res.status, 409, JSON.stringify(body));
  assert.equal(body.error.code, "sync_root_missing");
});
