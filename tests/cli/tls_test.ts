/** `serve` over HTTPS with a PEM certificate and key, checked with a real curl. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_KEY, DEMO_LOOKUP } from "../../src/demo/mod.ts";
import { runCli, tempDir } from "../_helpers.ts";
import { makeCertificate } from "../_tls.ts";
import { startServe } from "./_cli.ts";

async function curl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "-S", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("serve --tls-cert/--tls-key answers HTTPS that curl --cacert verifies", async () => {
  await using dir = await tempDir();
  const { ca, cert, key } = await makeCertificate(dir.path);
  await using serve = await startServe(
    [
      "--demo",
      "--listen",
      "127.0.0.1:0",
      "--data",
      join(dir.path, "data"),
      "--tls-cert",
      cert,
      "--tls-key",
      key,
    ],
    { answering: false },
  );
  assert.match(serve.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const answer = await curl(
    "--cacert",
    ca,
    "-H",
    `Authorization: Bearer ${DEMO_KEY}`,
    `${serve.url}${DEMO_LOOKUP}`,
  );
  assert.equal(answer.code, 0, answer.stderr);
  const body = JSON.parse(answer.stdout);
  assert.equal(body.verdict, "malicious");
  assert.equal(body.threat, "EICAR-Test-File");

  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
  try {
    const health = await fetch(`${serve.url}/healthz`, { client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    client.close();
  }
});

Deno.test("an HTTPS node refuses a client that does not trust its certificate", async () => {
  await using dir = await tempDir();
  const { cert, key } = await makeCertificate(dir.path);
  await using serve = await startServe(
    [
      "--listen",
      "127.0.0.1:0",
      "--data",
      join(dir.path, "data"),
      "--tls-cert",
      cert,
      "--tls-key",
      key,
    ],
    { answering: false },
  );
  const answer = await curl(`${serve.url}/healthz`);
  assert.notEqual(answer.code, 0, "curl without --cacert must fail verification");
  const plain = await curl(`${serve.url.replace("https:", "http:")}/healthz`);
  assert.notEqual(
    plain.stdout.trim(),
    '{"status":"ok"}',
    "plain HTTP is not served on the TLS port",
  );
});

Deno.test("serve with a certificate but no key exits 1 naming both settings", async () => {
  await using dir = await tempDir();
  const { cert } = await makeCertificate(dir.path);
  const result = await runCli(["serve", "--data", join(dir.path, "d"), "--tls-cert", cert]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /tls\.cert and tls\.key must be given together/);
});

Deno.test("serve with a key file that is not PEM exits 1 naming the file", async () => {
  await using dir = await tempDir();
  const { cert } = await makeCertificate(dir.path);
  const bogus = join(dir.path, "bogus.pem");
  await Deno.writeTextFile(bogus, "not a key");
  const result = await runCli(
    ["serve", "--data", join(dir.path, "d"), "--tls-cert", cert, "--tls-key", bogus],
  );
  assert.equal(result.code, 1);
  assert.match(result.stderr, /TLS key ".*bogus\.pem" is not PEM/);
});
