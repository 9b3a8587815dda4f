/**
 * A seeded, bounded fuzzer over every route: valid requests of each route, mutated in path,
 * method, headers and body, sent to a real node over HTTP on loopback. Whatever a client
 * sends, the node answers: never a 5xx, never a dropped connection, and it still serves
 * after. A failure names the seed and the request, so it can be replayed.
 */
import assert from "node:assert/strict";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import { startTestNode } from "../_helpers.ts";
import { PASSWORD } from "../admin/_admin.ts";
import { seededRandom } from "../_random.ts";

// Fixed in CI so a failure replays; PKSN_FUZZ_SEED and PKSN_FUZZ_REQUESTS explore further.
const SEED = Number(Deno.env.get("PKSN_FUZZ_SEED") ?? 90_901);
const REQUESTS = Number(Deno.env.get("PKSN_FUZZ_REQUESTS") ?? 3000);

interface Template {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const JSON_TYPE = "application/json";
const EICAR = "44d88612fea8a8f36de82e1278abb02f";
const RECORD = {
  detectedAt: "2026-11-28T11:59:00.000Z",
  detectionType: "file",
  verdict: "malicious",
  threat: "EICAR-Test-File",
  md5: EICAR,
  size: 68,
  url: "http://evil.example/x",
  statisticsVersion: 1,
};

/** One valid request of each route, with what it needs (licence, session, CSRF). */
function templates(session: { cookie: string; csrf: string }): Template[] {
  const licence = { authorization: `Bearer ${DEMO_KEY}` };
  const admin = { cookie: session.cookie, "x-csrf-token": session.csrf };
  return [
    { method: "GET", path: `/v1/files/${EICAR}`, headers: licence },
    {
      method: "GET",
      path: "/v1/urls?url=http%3A%2F%2Fa.b.evil.example%2Fx%3Fq%3D1",
      headers: licence,
    },
    { method: "GET", path: "/v1/domains/www.malware-c2.example", headers: licence },
    { method: "GET", path: "/v1/ips/192.0.2.66", headers: licence },
    { method: "GET", path: "/v1/ips/2001:db8:bad::%2F64", headers: licence },
    {
      method: "GET",
      path: "/v1/certs/00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:0c:e4:01",
      headers: licence,
    },
    {
      method: "POST",
      path: "/v1/lookup",
      headers: { ...licence, "content-type": JSON_TYPE },
      body: JSON.stringify({
        items: [
          { type: "file", value: EICAR },
          { type: "url", value: "http://phish.example/login/x" },
          { type: "domain", value: "tracking.example" },
          { type: "ip", value: "192.0.2.1" },
          { type: "cert", value: "00000000000000000000000000000000000ce401" },
        ],
      }),
    },
    { method: "GET", path: "/v1/statement", headers: {} },
    { method: "GET", path: "/v1/participation", headers: licence },
    {
      method: "POST",
      path: "/v1/participation",
      headers: { ...licence, "content-type": JSON_TYPE },
      body: JSON.stringify({ mode: "with-statistics", statementVersion: 1 }),
    },
    { method: "GET", path: "/v1/node", headers: licence },
    {
      method: "POST",
      path: "/v1/stats",
      headers: { ...licence, "content-type": JSON_TYPE, "idempotency-key": "fuzz-1" },
      body: JSON.stringify([RECORD, RECORD]),
    },
    {
      method: "POST",
      path: "/v1/stats",
      headers: { ...licence, "content-type": "application/x-ndjson" },
      body: `${JSON.stringify(RECORD)}\n${JSON.stringify(RECORD)}\n`,
    },
    {
      method: "POST",
      path: "/v1/samples",
      headers: {
        ...licence,
        "content-type": "application/octet-stream",
        "x-sample-name": "sample.exe",
        "x-detection": "EICAR-Test-File",
      },
      body: "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    },
    { method: "GET", path: "/healthz", headers: {} },
    { method: "GET", path: "/readyz", headers: {} },
    { method: "GET", path: "/metrics", headers: {} },
    { method: "GET", path: "/feed/timestamp.json", headers: licence },
    {
      method: "POST",
      path: "/admin/api/login",
      headers: { "content-type": JSON_TYPE },
      body: JSON.stringify({ username: "admin", password: "wrong password 1" }),
    },
    {
      method: "POST",
      path: "/admin/api/setup",
      headers: { "content-type": JSON_TYPE },
      body: JSON.stringify({ token: "0".repeat(32), username: "admin2", password: PASSWORD }),
    },
    { method: "GET", path: "/admin/api/session", headers: admin },
    { method: "GET", path: "/admin/api/licences", headers: admin },
    {
      method: "POST",
      path: "/admin/api/licences/999/revoke",
      headers: { ...admin, "content-type": JSON_TYPE },
      body: JSON.stringify({ reason: "fuzz" }),
    },
    { method: "GET", path: "/admin/api/participation", headers: admin },
    {
      method: "POST",
      path: "/admin/api/participation",
      headers: { ...admin, "content-type": JSON_TYPE },
      body: JSON.stringify({ mode: "do-not-participate" }),
    },
    { method: "GET", path: "/admin/api/stats", headers: admin },
    { method: "GET", path: "/admin/api/stats/2026-11-28", headers: admin },
    { method: "GET", path: "/admin/api/stats/2026-11-27/archive", headers: admin },
  ];
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const JUNK = [
  "",
  "%",
  "%00",
  "%25%32%35",
  "..",
  "../../etc/passwd",
  "\\",
  "//",
  "?",
  "#",
  "é",
  "\u{1F4A9}",
  "%C0%AF",
  "%ff%fe",
  "a".repeat(300),
  "9".repeat(40),
  "-1",
  "1e309",
  "null",
  "[]",
  "{}",
  "0x7f.1",
  "[::1]",
  "%2F",
  "%5C",
];

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)];
}

/** Replaces, inserts or deletes a few characters. */
function mutateText(next: () => number, text: string): string {
  let out = text;
  const edits = 1 + Math.floor(next() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(next() * (out.length + 1));
    const roll = next();
    if (roll < 0.4) out = out.slice(0, at) + pick(next, JUNK) + out.slice(at);
    else if (roll < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(next() * 8));
    else {out = out.slice(0, at) + String.fromCharCode(Math.floor(next() * 0x3000)) +
        out.slice(at + 1);}
  }
  return out;
}

/** Mutates a JSON body as a value: wrong types, huge or deep values, dropped fields. */
function mutateJson(next: () => number, body: string): string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return mutateText(next, body);
  }
  const odd: unknown[] = [
    null,
    true,
    -1,
    1.5,
    1e308,
    "",
    "x".repeat(70_000),
    "\u0000",
    [],
    {},
    "ж".repeat(5000),
    Number.MAX_SAFE_INTEGER + 2,
  ];
  const visit = (v: unknown, depth: number): unknown => {
    if (next() < 0.15) return pick(next, odd);
    if (Array.isArray(v)) {
      const out = v.map((x) => visit(x, depth + 1));
      if (next() < 0.1) out.push(pick(next, odd));
      return out;
    }
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (next() > 0.1) out[k] = visit(x, depth + 1);
      if (next() < 0.1) out[pick(next, ["extra", "__proto__", "constructor", "userName"])] = 1;
      return out;
    }
    return v;
  };
  if (next() < 0.05) return "[".repeat(50_000) + "]".repeat(50_000);
  return JSON.stringify(visit(value, 0));
}

function mutate(next: () => number, t: Template): Template {
  const out: Template = { ...t, headers: { ...t.headers } };
  const roll = next();
  if (roll < 0.1) out.method = pick(next, METHODS);
  if (next() < 0.3) {
    // Mostly the part after the route's last "/", so the request still reaches its handler.
    const cut = next() < 0.7 ? out.path.lastIndexOf("/") + 1 : 0;
    out.path = out.path.slice(0, cut) + mutateText(next, out.path.slice(cut));
  }
  if (next() < 0.3) {
    const header = pick(next, [
      "authorization",
      "x-license-key",
      "content-type",
      "content-encoding",
      "idempotency-key",
      "x-sample-sha256",
      "x-sample-name",
      "x-detection",
      "cookie",
      "x-csrf-token",
      "origin",
    ]);
    const value = pick(next, [
      "",
      "Bearer ",
      `Bearer ${"K".repeat(60_000)}`,
      "gzip",
      "br, gzip",
      "text/plain",
      "application/json; charset=latin1",
      "multipart/form-data; boundary=x",
      "0".repeat(64),
      "../../x.exe",
      "pksn_admin=" + "a".repeat(500),
      "http://attacker.example",
      "null",
    ]);
    if (next() < 0.2) delete out.headers[header];
    else out.headers[header] = value;
  }
  if (out.body !== undefined && next() < 0.6) {
    out.body = out.headers["content-type"] === JSON_TYPE
      ? mutateJson(next, out.body)
      : mutateText(next, out.body);
  }
  if (out.method === "GET" || out.method === "HEAD") delete out.body;
  return out;
}

async function adminSession(
  url: string,
  logLines: string[],
): Promise<{ cookie: string; csrf: string }> {
  const token = logLines.join("\n").match(/Admin setup token[^:]*: ([0-9a-f]+)/)?.[1];
  assert.ok(token, "the node logged its setup token");
  const json = { "content-type": JSON_TYPE };
  const setup = await fetch(`${url}/admin/api/setup`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ token, username: "admin", password: PASSWORD }),
  });
  await setup.body?.cancel();
  const login = await fetch(`${url}/admin/api/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ username: "admin", password: PASSWORD }),
  });
  const body = await login.json();
  assert.equal(login.status, 200, JSON.stringify(body));
  const cookie = login.headers.get("set-cookie")!.split(";", 1)[0];
  return { cookie, csrf: body.csrfToken };
}

Deno.test(`${REQUESTS} mutated requests over every route (seed ${SEED}) get no 5xx and no dropped connection, and the node serves after`, async () => {
  await using node = await startTestNode({ demo: true, config: { auth: { required: true } } });
  const session = await adminSession(node.url, node.logLines);
  const base = templates(session);
  const chosen = await fetch(`${node.url}/v1/participation`, {
    method: "POST",
    headers: { authorization: `Bearer ${DEMO_KEY}`, "content-type": JSON_TYPE },
    body: JSON.stringify({ mode: "with-statistics", statementVersion: 1 }),
  });
  assert.equal(chosen.status, 200, await chosen.text());
  const next = seededRandom(SEED);
  const statuses = new Map<number, number>();
  for (let n = 0; n < REQUESTS; n++) {
    const request = mutate(next, pick(next, base));
    const label =
      `request ${n} (seed ${SEED}): ${request.method} ${
        JSON.stringify(request.path).slice(0, 200)
      } ` +
      `${JSON.stringify(request.headers).slice(0, 300)} body ${
        JSON.stringify(request.body ?? "").slice(0, 200)
      }`;
    let res: Response;
    try {
      res = await fetch(`${node.url}${request.path}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      });
      await res.arrayBuffer();
    } catch (err) {
      // A path fetch itself refuses (not a URL) never reached the node.
      if (err instanceof TypeError && /Invalid URL|invalid header/i.test(err.message)) continue;
      assert.fail(`${label}: the connection failed: ${err}`);
    }
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    assert.ok(res.status < 500, `${label}: answered ${res.status}`);
  }
  if (Deno.env.get("PKSN_FUZZ_SHOW")) console.log([...statuses].sort((a, b) => a[0] - b[0]));
  assert.ok(
    (statuses.get(200) ?? 0) > REQUESTS / 20,
    `some requests still succeed: ${[...statuses]}`,
  );
  assert.ok(statuses.size >= 6, `the mutations reach many answers: ${[...statuses]}`);
  const health = await fetch(`${node.url}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const lookup = await fetch(`${node.url}/v1/files/${EICAR}`, {
    headers: { authorization: `Bearer ${DEMO_KEY}` },
  });
  assert.equal((await lookup.json()).verdict, "malicious");
});
