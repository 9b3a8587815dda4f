/** A test certificate authority and a server certificate, made by openssl as an operator would. */
import assert from "node:assert/strict";
import { join } from "node:path";

async function openssl(...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  assert.equal(out.code, 0, `openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * A test CA and a server certificate it signed for 127.0.0.1 and localhost, made
 * by openssl as an operator would. Returns the CA (for clients) and the server's
 * certificate and key (for pksn).
 */
export async function makeCertificate(
  dir: string,
): Promise<{ ca: string; cert: string; key: string }> {
  const path = (name: string): string => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...ec,
    "-days",
    "2",
    "-subj",
    "/CN=pksn test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.pem"),
  );
  await openssl(
    "req",
    ...ec,
    "-subj",
    "/CN=pksn test node",
    "-keyout",
    path("key.pem"),
    "-out",
    path("node.csr"),
  );
  await Deno.writeTextFile(
    path("ext.cnf"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    path("node.csr"),
    "-CA",
    path("ca.pem"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    path("ext.cnf"),
    "-out",
    path("cert.pem"),
  );
  return { ca: path("ca.pem"), cert: path("cert.pem"), key: path("key.pem") };
}
