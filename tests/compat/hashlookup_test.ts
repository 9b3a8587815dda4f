/**
 * The CIRCL hashlookup routes, driven with the requests PyHashlookup sends (hashlookup_client.py)
 * and read the way it reads them: every answer, 404s included, as JSON.
 */
import assert from "node:assert/strict";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import { join } from "node:path";
import { fakeClock, runCli, startTestNode, tempDir } from "../_helpers.ts";
import { runPython } from "./_python.ts";
import { hash, listed, startFakeParent, startProxyNode } from "../proxy/_parent.ts";

const EICAR = {
  md5: "44d88612fea8a8f36de82e1278abb02f",
  sha1: "3395856ce81f2b7382dee72602f798b642f14140",
  sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
};
const NOWHERE = "0".repeat(32);

Deno.test("PyHashlookup's calls get hashlookup's answers: records, 404 'Non existing', 400s and bulk lists", async () => {
  await using node = await startTestNode({
    demo: true,
    config: { auth: { required: true } },
    clock: fakeClock(),
  });
  const answers = await runPython("hashlookup_client.py", [
    node.url,
    DEMO_KEY,
    ...["md5", EICAR.md5],
    ...["sha1", EICAR.sha1],
    ...["sha256", EICAR.sha256],
    ...["md5", NOWHERE],
    ...["sha1", "xyz"],
    ...["bulk_md5", `${EICAR.md5},${NOWHERE}`],
    ...["bulk_sha1", EICAR.sha1],
    ...["bulk_md5", `${EICAR.md5},not-a-hash`],
    ...["info", "-"],
  ]) as { status: number; json: Record<string, unknown> & unknown[] }[];
  const [md5, sha1, sha256, missing, malformed, bulk, bulkSha1, bulkBad, info] = answers;

  assert.equal(md5.status, 200);
  assert.equal(md5.json.MD5, EICAR.md5.toUpperCase());
  assert.equal(md5.json.KnownMalicious, "demo");
  assert.equal(md5.json["hashlookup:trust"], 30);
  assert.equal(md5.json["pksn:verdict"], "malicious");
  assert.equal(md5.json["pksn:threat"], "EICAR-Test-File");
  assert.equal(typeof md5.json["pksn:last_seen"], "number");
  assert.equal(sha1.json["SHA-1"], EICAR.sha1.toUpperCase());
  assert.equal(sha256.json["SHA-256"], EICAR.sha256.toUpperCase());

  assert.deepEqual(missing, { status: 404, json: { message: "Non existing MD5", query: NOWHERE } });
  assert.equal(malformed.status, 400);
  assert.equal(
    malformed.json.message,
    "SHA1 value incorrect, expecting a SHA1 value in hex format",
  );
  assert.equal(bulk.status, 200);
  assert.deepEqual(bulk.json.map((r) => (r as Record<string, unknown>).MD5), [
    EICAR.md5.toUpperCase(),
  ], "a bulk answer lists the hashes found, as hashlookup's does");
  assert.equal((bulkSha1.json[0] as Record<string, unknown>)["SHA-1"], EICAR.sha1.toUpperCase());
  assert.equal(bulkBad.status, 400);
  assert.match(String(bulkBad.json.message), /MD5 value incorrect/);
  assert.equal(info.status, 200);
  assert.equal(
    info.json["stat:hashlookup_total_keys"],
    node.serving.node.index.current.counts.file.mirror +
      node.serving.node.index.current.counts.file.local,
  );
});

Deno.test("hashlookup without a key: 401 in its shape, unless compat.allow admits the client's network", async () => {
  await using closed = await startTestNode({
    demo: true,
    config: { auth: { required: true } },
    clock: fakeClock(),
  });
  const [refused] = await runPython("hashlookup_client.py", [
    closed.url,
    "-",
    "md5",
    EICAR.md5,
  ]) as {
    status: number;
    json: Record<string, unknown>;
  }[];
  assert.equal(refused.status, 401);
  assert.equal(refused.json.code, "license_missing");
  assert.match(String(refused.json.message), /Licence key required/);
  const [wrong] = await runPython("hashlookup_client.py", [
    closed.url,
    "NOT-A-REGISTERED-KEY",
    "md5",
    EICAR.md5,
  ]) as { status: number; json: Record<string, unknown> }[];
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.code, "license_unknown");

  await using open = await startTestNode({
    demo: true,
    config: { auth: { required: true }, compat: { allow: ["127.0.0.0/8"] } },
    clock: fakeClock(),
  });
  const [admitted] = await runPython("hashlookup_client.py", [open.url, "-", "md5", EICAR.md5]) as {
    status: number;
    json: Record<string, unknown>;
  }[];
  assert.equal(admitted.status, 200);
  assert.equal(admitted.json["pksn:verdict"], "malicious");
});

Deno.test("hashlookup bulk refuses a body that is not {hashes: [...]} and more hashes than lookup.maxBatchItems", async () => {
  await using node = await startTestNode({ demo: true, config: { lookup: { maxBatchItems: 2 } } });
  const post = (body: string, type = "application/json"): Promise<Response> =>
    fetch(`${node.url}/bulk/md5`, { method: "POST", headers: { "content-type": type }, body });
  for (const body of ['{"hash": []}', "[1]", '{"hashes": [1]}', "{", '{"hashes": "x"}']) {
    const res = await post(body);
    assert.equal(res.status, 400, body);
    assert.equal(
      (await res.json()).message,
      "JSON format incorrect. An array of hashes in the key 'hashes' is expected.",
    );
  }
  const many = await post(JSON.stringify({ hashes: [EICAR.md5, EICAR.md5, EICAR.md5] }));
  assert.equal(many.status, 413);
  assert.match((await many.json()).message, /At most 2 hashes a request/);
  const get = await fetch(`${node.url}/bulk/md5`);
  assert.equal(get.status, 405);
  await get.body?.cancel();
});

Deno.test("compat.hashlookup false leaves the routes out", async () => {
  await using node = await startTestNode({ demo: true, config: { compat: { hashlookup: false } } });
  const res = await fetch(`${node.url}/lookup/md5/${EICAR.md5}`);
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "not_found");
});

Deno.test("a bad network in compat.allow stops serve before the data folder is created", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "new-data");
  const config = join(dir.path, "pksn.json");
  await Deno.writeTextFile(config, JSON.stringify({ compat: { allow: ["10.0.0.1/8"] } }));
  const result = await runCli(
    ["serve", "--listen", "127.0.0.1:0", "--data", data, "--config", config],
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /compat\.allow\[0\]: Invalid CIDR "10\.0\.0\.1\/8": host bits are set; did you mean "10\.0\.0\.0\/8"/,
  );
  await assert.rejects(Deno.stat(data), Deno.errors.NotFound, "nothing was created");
});

Deno.test("a hashlookup bulk asks the KSN proxy's parent once for all its unknown hashes", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: { now: () => Date.now() },
  });
  try {
    const hashes = Array.from({ length: 50 }, (_, i) => hash(i));
    parent.records.set(`file ${hashes[7]}`, listed("Parent.Threat"));
    // No Content-Type, as curl -d sends it: hashlookup reads the body as JSON regardless.
    const res = await fetch(`${node.url}/bulk/md5`, {
      method: "POST",
      headers: { authorization: `Bearer ${node.key}` },
      body: JSON.stringify({ hashes }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.map((r: Record<string, unknown>) => r["pksn:threat"]), ["Parent.Threat"]);
    assert.equal(parent.requests.length, 1, "one request to the parent for 50 misses");
    assert.equal(parent.requests[0].items.length, 50);
  } finally {
    await node.stop();
    await parent.close();
  }
});
