/**
 * The VirusTotal v3 routes, driven by VirusTotal's own client, vt-py (vendored unchanged in
 * tests/testdata/vendor/vt-py): `vt.Client(apikey, host=...)`, `get_object`, `vt.url_id` and the
 * `vt.APIError` it raises from an error answer.
 */
import assert from "node:assert/strict";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import { fakeClock, startTestNode } from "../_helpers.ts";
import { runPython } from "./_python.ts";

const EICAR_MD5 = "44d88612fea8a8f36de82e1278abb02f";

interface VtAnswer {
  object?: { attributes: Record<string, unknown> };
  type?: string;
  id?: string;
  last_analysis_date?: string | null;
  error?: [string, string];
}

Deno.test("vt-py reads files, URLs, domains and IPs from the node, and its errors as APIError codes", async () => {
  await using node = await startTestNode({
    demo: true,
    config: { auth: { required: true } },
    clock: fakeClock(),
  });
  const [file, unknown, url, domain, ip, malformed, sha256Id] = await runPython("vt_client.py", [
    node.url,
    DEMO_KEY,
    `/files/${EICAR_MD5}`,
    `/files/${"0".repeat(64)}`,
    "url:http://phish.example/login/",
    "/domains/malware-c2.example",
    "/ip_addresses/192.0.2.66",
    "/files/not-a-hash",
    `/urls/${"a".repeat(64)}`,
  ]) as VtAnswer[];

  assert.equal(file.type, "file");
  assert.equal(file.id, EICAR_MD5);
  const attributes = file.object!.attributes;
  assert.deepEqual(attributes.last_analysis_stats, {
    malicious: 1,
    suspicious: 0,
    undetected: 0,
    harmless: 0,
    timeout: 0,
  });
  assert.equal(attributes.reputation, -100);
  assert.equal(attributes.md5, EICAR_MD5);
  assert.equal(
    (attributes.popular_threat_classification as Record<string, string>).suggested_threat_label,
    "EICAR-Test-File",
  );
  // vt-py turns *_date attributes into datetimes: the node sent epoch seconds.
  assert.equal(file.last_analysis_date, "2026-11-01T00:00:00+00:00");

  assert.deepEqual(unknown.error?.[0], "NotFoundError");
  assert.equal(url.type, "url", JSON.stringify(url));
  assert.equal(url.object!.attributes.url, "http://phish.example/login/");
  assert.equal(domain.type, "domain", JSON.stringify(domain));
  assert.equal(ip.type, "ip_address", JSON.stringify(ip));
  assert.equal(malformed.error?.[0], "InvalidArgumentError");
  assert.equal(sha256Id.error?.[0], "NotFoundError");
  assert.match(sha256Id.error![1], /unpadded base64url of the URL/);

  const [wrongKey] = await runPython("vt_client.py", [
    node.url,
    "NOT-A-REAL-KEY",
    `/files/${EICAR_MD5}`,
  ]) as VtAnswer[];
  assert.equal(wrongKey.error?.[0], "WrongCredentialsError");
});

Deno.test("VirusTotal routes: quota exhausted is QuotaExceededError, no key is AuthenticationRequiredError", async () => {
  await using node = await startTestNode({
    demo: true,
    config: { auth: { required: true } },
    clock: fakeClock(),
  });
  const licences = node.serving.node.licences;
  const { key } = licences.add(
    { customer: "Quota One", expires: Date.now() / 1000 + 86_400 * 365, quota: 1 },
    "test",
  );
  const statement = await (await fetch(`${node.url}/v1/statement`)).json();
  const chose = await fetch(`${node.url}/v1/participation`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ mode: "without-statistics", statementVersion: statement.version }),
  });
  assert.equal(chose.status, 200, await chose.text());
  const answers = await runPython("vt_client.py", [
    node.url,
    key,
    `/files/${EICAR_MD5}`,
    `/files/${EICAR_MD5}`,
  ]) as VtAnswer[];
  assert.equal(answers[0].type, "file");
  assert.equal(answers[1].error?.[0], "QuotaExceededError");

  const bare = await fetch(`${node.url}/api/v3/files/${EICAR_MD5}`);
  assert.equal(bare.status, 401);
  assert.deepEqual((await bare.json()).error.code, "AuthenticationRequiredError");
});
