/** `serve` over HTTPS with a PEM certificate and key, checked with a real curl. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_KEY, DEMO_LOOKUP } from "../../src/demo/mod.ts";
import { type CliResult, runCli, runTool, tempDir } from "../_helpers.ts";
import { makeCertificate } from "../_tls.ts";
import { type ServeProcess, startServe } from "./_cli.ts";

/** Runs `curl -s -S ARGS`. */
async function curl(...args: string[]): Promise<CliResult> {
  return await runTool("curl", ["-s", "-S", ...args]);
}

/**
 * Starts `pksn serve [EXTRA…] --listen 127.0.0.1:0 --data DIR/data --tls-cert CERT --tls-key KEY`
 * and returns once it logs where it listens: the usual /healthz wait would not
 * trust the test CA.
 */
async function serveTls(
  dir: string,
  tls: { cert: string; key: string },
  extra: string[] = [],
): Promise<ServeProcess> {
  const tlsArgs = ["--tls-cert", tls.cert, "--tls-key", tls.key];
  const args = [...extra, "--listen", "127.0.0.1:0", "--data", join(dir, "data"), ...tlsArgs];
  return await startServe(args, { answering: false });
}

Deno.test("serve --tls-cert/--tls-key answers HTTPS that curl --cacert verifies", async () => {
  await using dir = await tempDir();
  const { ca, ...tls } = await makeCertificate(dir.path);
  await using serve = await serveTls(dir.path, tls, ["--demo"]);
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
  await using serve = await serveTls(dir.path, await makeCertificate(dir.path));
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

Deno.test("under TLS with a self-signed certificate the demo curl line names --cacert and works as printed", async () => {
  await using dir = await tempDir();
  const cert = join(dir.path, "self.pem");
  const key = join(dir.path, "self.key");
  const made = await new Deno.Command("openssl", {
    args: [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
      ...["-keyout", key, "-out", cert],
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
  await using serve = await serveTls(dir.path, { cert, key }, ["--demo"]);
  const [line] = await serve.stdout.waitFor(/^curl -s --cacert \S+ .*$/m);
  assert.ok(line.includes(`--cacert ${cert} `), line);
  const answer = await new Deno.Command("sh", {
    args: ["-c", line],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.equal(answer.code, 0, new TextDecoder().decode(answer.stderr));
  assert.equal(JSON.parse(new TextDecoder().decode(answer.stdout)).verdict, "malicious");
});

Deno.test("a missing TLS certificate is reported before the data folder is created", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "new-data");
  const missing = join(dir.path, "no-such-cert.pem");
  const result = await runCli([
    "serve",
    ...["--listen", "127.0.0.1:0", "--data", data],
    ...["--tls-cert", missing, "--tls-key", join(dir.path, "no-such-key.pem")],
  ]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /TLS certificate/);
  assert.ok(result.stderr.includes(missing), result.stderr);
  await assert.rejects(Deno.stat(data), Deno.errors.NotFound, "nothing was created");
});
