/** The admin API's allowed origins: the listen address's own, `admin.allowedOrigins`, and Host checks. */
import assert from "node:assert/strict";
import { AllowedOrigins } from "../../src/admin/mod.ts";
import { resolveConfig } from "../../src/core/config.ts";
import { ConfigError } from "../../src/core/errors.ts";
import { assertError, PASSWORD, rawRequest, startAdminNode } from "./_admin.ts";

function origins(configured: string[], listening?: string): AllowedOrigins {
  const allowed = new AllowedOrigins(configured);
  if (listening !== undefined) allowed.listening(listening);
  return allowed;
}

Deno.test("a loopback listen address allows its own origin and localhost, 127.0.0.1 and [::1] on its port", () => {
  const allowed = origins([], "http://127.0.0.1:8080");
  for (
    const host of ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "127.1:8080"]
  ) {
    assert.ok(allowed.allowsHost(host), host);
  }
  for (const origin of ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]) {
    assert.ok(allowed.allowsOrigin(origin), origin);
  }
});

Deno.test("Host and Origin values naming another host, port or scheme are refused", () => {
  const allowed = origins([], "http://127.0.0.1:8080");
  for (
    const host of [
      "attacker.example:8080",
      "127.0.0.1",
      "127.0.0.1:8081",
      "127.0.0.1:8080/admin",
      "admin@127.0.0.1:8080",
      "127.0.0.1:8080 ",
      "",
    ]
  ) {
    assert.equal(allowed.allowsHost(host), false, JSON.stringify(host));
  }
  for (
    const origin of [
      "http://attacker.example:8080",
      "https://127.0.0.1:8080",
      "http://127.0.0.1:8081",
      "null",
      "file://",
      "http://user:pw@127.0.0.1:8080",
    ]
  ) {
    assert.equal(allowed.allowsOrigin(origin), false, origin);
  }
});

Deno.test("a configured origin on a default port matches a Host with or without the port", () => {
  const allowed = origins(["https://pksn.isp.example"]);
  assert.ok(allowed.allowsHost("pksn.isp.example"));
  assert.ok(allowed.allowsHost("pksn.isp.example:443"));
  assert.equal(allowed.allowsHost("pksn.isp.example:80"), false);
  assert.ok(allowed.allowsOrigin("https://pksn.isp.example"));
  assert.ok(allowed.allowsOrigin("https://PKSN.isp.example:443"));
  assert.equal(allowed.allowsOrigin("http://pksn.isp.example"), false);
});

Deno.test("a configured origin with a port needs that port in Host", () => {
  const allowed = origins(["https://pksn.isp.example:8443"], "http://127.0.0.1:8080");
  assert.ok(allowed.allowsHost("pksn.isp.example:8443"));
  assert.equal(allowed.allowsHost("pksn.isp.example"), false);
  assert.ok(allowed.allowsOrigin("https://pksn.isp.example:8443"));
  assert.ok(allowed.allowsHost("127.0.0.1:8080"), "the listen address stays allowed");
});

Deno.test("before the server is bound only the configured origins are allowed", () => {
  assert.equal(origins([]).allowsHost("127.0.0.1:8080"), false);
  assert.equal(origins([]).allowsHost("localhost:8080"), false);
});

Deno.test("a wildcard listen address allows the loopback names and the machine's interface addresses", () => {
  const allowed = origins([], "http://0.0.0.0:8080");
  assert.ok(allowed.allowsHost("localhost:8080"));
  assert.ok(allowed.allowsHost("127.0.0.1:8080"));
  assert.equal(allowed.allowsHost("attacker.example:8080"), false);
  const ipv4 = Deno.networkInterfaces().find((i) => i.family === "IPv4");
  if (ipv4 !== undefined) assert.ok(allowed.allowsHost(`${ipv4.address}:8080`), ipv4.address);
});

Deno.test("an IPv6 listen address matches its canonical form", () => {
  const allowed = origins([], "https://[::1]:8443");
  assert.ok(allowed.allowsHost("[::1]:8443"));
  assert.ok(allowed.allowsHost("[0:0::1]:8443"));
  assert.ok(allowed.allowsOrigin("https://localhost:8443"));
  assert.equal(allowed.allowsOrigin("http://[::1]:8443"), false);
});

Deno.test("admin.allowedOrigins refuses values that are not bare http(s) origins", () => {
  for (
    const value of [
      "https://pksn.isp.example/admin",
      "pksn.isp.example",
      "ftp://pksn.isp.example",
      "https://user@pksn.isp.example",
      "https://pksn.isp.example?x",
    ]
  ) {
    assert.throws(
      () => resolveConfig({ admin: { allowedOrigins: [value] } }),
      (err: unknown) => err instanceof ConfigError && /admin\.allowedOrigins/.test(err.message),
      value,
    );
  }
  const config = resolveConfig({ admin: { allowedOrigins: ["https://pksn.isp.example:8443/"] } });
  assert.deepEqual(config.admin.allowedOrigins, ["https://pksn.isp.example:8443/"]);
});

Deno.test("an admin request through a reverse proxy's configured origin passes the Host and Origin checks", async () => {
  await using node = await startAdminNode({
    config: { admin: { allowedOrigins: ["https://pksn.isp.example:8443"] } },
  });
  await node.auth.setPassword("admin", PASSWORD);
  const res = await rawRequest(node, "/admin/api/login", {
    host: "pksn.isp.example:8443",
    headers: { origin: "https://pksn.isp.example:8443" },
    json: { username: "admin", password: PASSWORD },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.match(res.headers.get("set-cookie") ?? "", /^pksn_admin=/);
});

Deno.test("admin requests without Origin pass when Host is the node's own address, as curl sends them", async () => {
  await using node = await startAdminNode();
  const port = new URL(node.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
    const res = await rawRequest(node, "/admin/api/session", { host });
    assertError(res, 401, "admin_auth_required");
  }
});
