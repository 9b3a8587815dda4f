/** The licence, audit and statement endpoints of the admin API, over real HTTP on loopback. */
import assert from "node:assert/strict";
import {
  type AdminTestNode,
  api,
  type ApiOptions,
  type ApiResponse,
  assertError,
  type LoggedIn,
  logIn,
  PASSWORD,
  startAdminNode,
} from "./_admin.ts";

const LOOKUP = "/v1/files/44d88612fea8a8f36de82e1278abb02f";
const HOUR_MS = 3600 * 1000;

type Operator = AdminTestNode & LoggedIn;

/** A node with licence checks on, an admin account and a logged-in session. */
async function operator(): Promise<Operator> {
  const node = await startAdminNode({ config: { auth: { required: true } } });
  await node.auth.setPassword("admin", PASSWORD);
  return Object.assign(node, await logIn(node));
}

/** An admin request with the session cookie and CSRF token. */
function send(node: Operator, path: string, options: ApiOptions = {}): Promise<ApiResponse> {
  return api(node, `/admin/api/${path}`, { cookie: node.cookie, csrf: node.csrf, ...options });
}

/** Registers a licence straight through the service, for tests about other routes. */
function addLicence(
  node: Operator,
  customer: string,
  terms: { validFrom?: string; expires?: string; notes?: string } = {},
): { id: number; key: string } {
  const seconds = (date: string): number => Date.parse(date) / 1000;
  const { licence, key } = node.node.licences.add({
    customer,
    expires: seconds(terms.expires ?? "2027-12-31T00:00:00Z"),
    validFrom: terms.validFrom === undefined ? undefined : seconds(terms.validFrom),
    notes: terms.notes,
  }, "test");
  return { id: licence.id, key };
}

/** Chooses a participation mode for `key`, as a client does before its first look-up. */
async function participate(node: Operator, key: string): Promise<void> {
  const res = await api(node, "/v1/participation", {
    json: {
      mode: "without-statistics",
      statementVersion: node.node.participation.statementVersion,
    },
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

function lookup(node: Operator, key: string): Promise<ApiResponse> {
  return api(node, LOOKUP, { headers: { authorization: `Bearer ${key}` } });
}

async function postCsv(
  node: Operator,
  csv: string,
  type = "text/csv",
): Promise<ApiResponse> {
  const res = await fetch(`${node.url}/admin/api/licences/import`, {
    method: "POST",
    headers: { cookie: node.cookie, "x-csrf-token": node.csrf, "content-type": type },
    body: csv,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

function customers(res: ApiResponse): string[] {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.licences.map((l: { customer: string }) => l.customer);
}

Deno.test("GET /admin/api/licences filters by text and by state on the node's clock", async () => {
  await using node = await operator();
  addLicence(node, "Acme Telecom", { notes: "north region" });
  addLicence(node, "Beta Net", { expires: "2026-12-10T00:00:00Z" });
  addLicence(node, "Gamma ISP", {
    validFrom: "2026-01-01T00:00:00Z",
    expires: "2026-06-30T00:00:00Z",
  });
  const revoked = addLicence(node, "Delta Cable");
  node.node.licences.revoke(String(revoked.id), "test");
  const list = (query: string): Promise<ApiResponse> => send(node, `licences?${query}`);
  assert.deepEqual(customers(await list("")).length, 4);
  assert.deepEqual(customers(await list("q=acme")), ["Acme Telecom"]);
  assert.deepEqual(customers(await list("q=NORTH")), ["Acme Telecom"]);
  assert.deepEqual(customers(await list(`q=${revoked.id}`)), ["Delta Cable"]);
  assert.deepEqual(customers(await list("state=active")), ["Acme Telecom", "Beta Net"]);
  assert.deepEqual(customers(await list("state=expiring")), ["Beta Net"]);
  assert.deepEqual(customers(await list("state=expired")), ["Gamma ISP"]);
  assert.deepEqual(customers(await list("state=revoked&q=delta")), ["Delta Cable"]);
  // An HTML form sends its empty fields; they filter nothing.
  assert.equal(customers(await list("q=&state=")).length, 4);
  // 40 days later Acme is still active but Beta has expired.
  node.clock.set(node.clock.now() + 40 * 24 * HOUR_MS);
  Object.assign(node, await logIn(node)); // the session has expired meanwhile
  assert.deepEqual(customers(await list("state=expired")), ["Beta Net", "Gamma ISP"]);
});

Deno.test("GET /admin/api/licences rejects an unknown state with 400 naming the field", async () => {
  await using node = await operator();
  const res = await send(node, "licences?state=lapsed");
  assertError(res, 400, "invalid_request");
  assert.match(res.body.error.message, /"state"/);
  assertError(await send(node, "licences?colour=red"), 400, "invalid_request");
});

Deno.test("POST /admin/api/licences registers a licence whose key authenticates a look-up", async () => {
  await using node = await operator();
  const res = await send(node, "licences", {
    json: { customer: "Acme", expires: "2027-06-30", quota: 100, modes: ["without-statistics"] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.match(res.body.key, /^PKSN(-[0-9A-Z]{5}){5}$/);
  assert.equal(res.body.licence.expires, "2027-07-01T00:00:00Z");
  assert.deepEqual(res.body.licence.modes, ["without-statistics"]);
  assert.equal(res.body.licence.quota, 100);
  await participate(node, res.body.key);
  assert.equal((await lookup(node, res.body.key)).status, 200);
  // The key is shown only once.
  assert.ok(!JSON.stringify((await send(node, "licences")).body).includes(res.body.key));
  const audit = await send(node, "audit?action=licence.add");
  assert.equal(audit.body.entries[0].actor, "admin:admin");
});

Deno.test("POST /admin/api/licences takes ISO 8601 date-times for validFrom and expires", async () => {
  await using node = await operator();
  const res = await send(node, "licences", {
    json: {
      customer: "Acme",
      validFrom: "2027-01-01T00:00:00+02:00",
      expires: "2027-02-01T12:30:00Z",
      notes: null,
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.licence.validFrom, "2026-12-31T22:00:00Z");
  assert.equal(res.body.licence.expires, "2027-02-01T12:30:00Z");
  assert.equal(res.body.licence.status, "not-yet-valid");
});

Deno.test("POST /admin/api/licences answers 400 naming the field that is wrong", async () => {
  await using node = await operator();
  const cases: [unknown, string, RegExp][] = [
    [{ expires: "2027-01-01" }, "invalid_request", /"customer"/],
    [{ customer: " ", expires: "2027-01-01" }, "invalid_request", /"customer"/],
    [{ customer: "A", expires: "next year" }, "invalid_date", /expires "next year"/],
    [{ customer: "A", expires: "2027-02-30" }, "invalid_date", /expires/],
    [{ customer: "A", expires: "2027-01-01", quota: 0 }, "invalid_request", /"quota"/],
    [{ customer: "A", expires: "2027-01-01", modes: ["all"] }, "invalid_request", /"modes.0"/],
    [{ customer: "A", expires: "2027-01-01", key: "X" }, "invalid_request", /"key": unknown/],
    [{ customer: "A", expires: "2026-01-01" }, "invalid_date", /expire .* before/],
  ];
  for (const [json, code, message] of cases) {
    const res = await send(node, "licences", { json });
    assertError(res, 400, code);
    assert.match(res.body.error.message, message);
  }
  assert.equal(node.node.licences.list().length, 0);
});

Deno.test("every licence, audit and statement route answers 401 without a session", async () => {
  await using node = await operator();
  const routes: [string, string][] = [
    ["GET", "licences"],
    ["POST", "licences"],
    ["PATCH", "licences/1"],
    ["POST", "licences/1/revoke"],
    ["POST", "licences/1/rotate"],
    ["POST", "licences/import"],
    ["GET", "audit"],
    ["GET", "statement"],
    ["POST", "statement"],
  ];
  for (const [method, path] of routes) {
    const res = await api(node, `/admin/api/${path}`, { method, csrf: node.csrf });
    assertError(res, 401, "admin_auth_required");
  }
});

Deno.test("every state-changing licence and statement route answers 403 without the CSRF token", async () => {
  await using node = await operator();
  const { id } = addLicence(node, "Acme");
  const routes: [string, string, unknown][] = [
    ["POST", "licences", { customer: "B", expires: "2027-01-01" }],
    ["PATCH", `licences/${id}`, { quota: 5 }],
    ["POST", `licences/${id}/revoke`, {}],
    ["POST", `licences/${id}/rotate`, {}],
    ["POST", "licences/import", {}],
    ["POST", "statement", { text: "New statement" }],
  ];
  for (const [method, path, json] of routes) {
    const res = await api(node, `/admin/api/${path}`, { method, json, cookie: node.cookie });
    assertError(res, 403, "csrf_failed");
  }
  assert.equal(node.node.licences.list().length, 1);
  assert.equal(node.node.licences.show(String(id)).status, "active");
});

Deno.test("PATCH /admin/api/licences/{id} changes the terms and audits what changed", async () => {
  await using node = await operator();
  const { id } = addLicence(node, "Acme");
  const res = await send(node, `licences/${id}`, {
    method: "PATCH",
    json: {
      quota: 60,
      modes: ["none", "with-statistics"],
      expires: "2028-01-31",
      notes: "renewed",
    },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.licence.quota, 60);
  assert.deepEqual(res.body.licence.modes, ["none", "with-statistics"]);
  assert.equal(res.body.licence.expires, "2028-02-01T00:00:00Z");
  assert.equal(res.body.licence.notes, "renewed");
  const unlimited = await send(node, `licences/${id}`, { method: "PATCH", json: { quota: null } });
  assert.equal(unlimited.body.licence.quota, null);
  const audit = (await send(node, `audit?action=licence.update&licence=${id}`)).body.entries;
  assert.equal(audit.length, 2);
  assert.equal(audit[0].actor, "admin:admin");
  assert.deepEqual(audit[0].detail.changed, { quota: { from: 60, to: null } });
  assert.deepEqual(Object.keys(audit[1].detail.changed).sort(), [
    "expires",
    "modes",
    "notes",
    "quota",
  ]);
});

Deno.test("PATCH /admin/api/licences/{id} takes effect on the next look-up", async () => {
  await using node = await operator();
  const { id, key } = addLicence(node, "Acme");
  await participate(node, key);
  assert.equal((await lookup(node, key)).status, 200);
  const res = await send(node, `licences/${id}`, { method: "PATCH", json: { quota: 1 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal((await lookup(node, key)).status, 200);
  assertError(await lookup(node, key), 429, "rate_limited");
});

Deno.test("PATCH /admin/api/licences/{id} answers 400, 404 and 409 as it should", async () => {
  await using node = await operator();
  const { id } = addLicence(node, "Acme", { validFrom: "2026-11-01T00:00:00Z" });
  const patch = (ref: string | number, json: unknown): Promise<ApiResponse> =>
    send(node, `licences/${ref}`, { method: "PATCH", json });
  assertError(await patch(id, {}), 400, "invalid_request");
  const quota = await patch(id, { quota: -1 });
  assertError(quota, 400, "invalid_request");
  assert.match(quota.body.error.message, /"quota"/);
  assertError(await patch(id, { expires: "2026-10-01" }), 400, "invalid_date");
  assertError(await patch(id, { customer: "Other" }), 400, "invalid_request");
  assertError(await patch("ACME-KEY-1234", { quota: 5 }), 400, "invalid_request");
  assertError(await patch(999, { quota: 5 }), 404, "license_not_found");
  node.node.licences.revoke(String(id), "test");
  assertError(await patch(id, { quota: 5 }), 409, "license_revoked");
});

Deno.test("POST /admin/api/licences/{id}/rotate issues a new key and the old one works within grace", async () => {
  await using node = await operator();
  const { id, key: oldKey } = addLicence(node, "Acme");
  await participate(node, oldKey);
  const res = await send(node, `licences/${id}/rotate`, { json: { graceHours: 2 } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.old.id, id);
  assert.equal(res.body.old.replacedBy, res.body.renewed.id);
  assert.equal(res.body.old.graceUntil, "2026-11-28T14:00:00Z");
  assert.notEqual(res.body.key, oldKey);
  assert.equal((await lookup(node, oldKey)).status, 200);
  // Participation carries over, so the renewed key looks up at once.
  assert.equal((await lookup(node, res.body.key)).status, 200);
  node.clock.set(node.clock.now() + 3 * HOUR_MS);
  assertError(await lookup(node, oldKey), 401, "license_expired");
  assert.equal((await lookup(node, res.body.key)).status, 200);
});

Deno.test("POST /admin/api/licences/{id}/rotate defaults to 24 hours and refuses what it must", async () => {
  await using node = await operator();
  const { id } = addLicence(node, "Acme");
  const rotate = (ref: number, json?: unknown): Promise<ApiResponse> =>
    send(node, `licences/${ref}/rotate`, json === undefined ? { method: "POST" } : { json });
  const tooLong = await rotate(id, { graceHours: 721 });
  assertError(tooLong, 400, "invalid_request");
  assert.match(tooLong.body.error.message, /"graceHours"/);
  assertError(await rotate(999), 404, "license_not_found");
  const res = await rotate(id);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.old.graceUntil, "2026-11-29T12:00:00Z");
  assertError(await rotate(id), 409, "license_rotated");
  node.node.licences.revoke(String(res.body.renewed.id), "test");
  assertError(await rotate(res.body.renewed.id), 409, "license_revoked");
});

Deno.test("POST /admin/api/licences/import registers every line of a CSV, or none", async () => {
  await using node = await operator();
  const header = "key,customer,expires,quota,modes,notes\n";
  const good = await postCsv(
    node,
    header + "ACME-0001-AAAA,Acme,2027-12-31,10,with-statistics;none,first\n" +
      "ACME-0002-BBBB,Acme,2027-12-31,,,\n",
  );
  assert.equal(good.status, 201, JSON.stringify(good.body));
  assert.equal(good.body.imported, 2);
  assert.deepEqual(good.body.licences.map((l: { quota: number | null }) => l.quota), [10, null]);
  await participate(node, "ACME-0002-BBBB");
  assert.equal((await lookup(node, "ACME-0002-BBBB")).status, 200);
  const badDate = await postCsv(
    node,
    header + "ACME-0003-CCCC,Acme,2027-12-31,,,\nACME-0004-DDDD,Acme,someday,,,\n",
  );
  assertError(badDate, 400, "invalid_csv");
  assert.match(badDate.body.error.message, /^Line 3: Invalid expires "someday"/);
  assert.ok(!badDate.body.error.message.includes("/tmp"), badDate.body.error.message);
  const duplicate = await postCsv(
    node,
    header + "ACME-0005-EEEE,Acme,2027-12-31,,,\n" +
      "ACME-0001-AAAA,Acme,2027-12-31,,,\n",
  );
  assertError(duplicate, 409, "license_exists");
  assert.match(duplicate.body.error.message, /^Line 3: /);
  assert.equal(node.node.licences.list().length, 2);
});

Deno.test("POST /admin/api/licences/import refuses a body that is not CSV or is too large", async () => {
  await using node = await operator();
  assertError(await postCsv(node, "{}", "application/json"), 415, "unsupported_media_type");
  const huge = "key,customer,expires\n" + "ACME-0001-AAAA,Acme,2027-12-31\n".repeat(40_000);
  assertError(await postCsv(node, huge), 413, "body_too_large");
  const empty = await postCsv(node, "\n");
  assertError(empty, 400, "invalid_csv");
  assert.match(empty.body.error.message, /^CSV body is empty/);
  assert.equal(node.node.licences.list().length, 0);
});

Deno.test("GET /admin/api/audit answers the newest entries first, filtered", async () => {
  await using node = await operator();
  const a = addLicence(node, "Acme");
  const b = addLicence(node, "Beta");
  await send(node, `licences/${a.id}/revoke`, { json: { reason: "left" } });
  await send(node, `licences/${b.id}`, { method: "PATCH", json: { notes: "x" } });
  const audit = async (query: string): Promise<[string, string, number | null][]> => {
    const res = await send(node, `audit?${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.entries.map((e: { action: string; actor: string; licenceId: number }) => [
      e.action,
      e.actor,
      e.licenceId,
    ]);
  };
  assert.deepEqual((await audit("")).filter(([action]) => action.startsWith("licence.")), [
    ["licence.update", "admin:admin", b.id],
    ["licence.revoke", "admin:admin", a.id],
    ["licence.add", "test", b.id],
    ["licence.add", "test", a.id],
  ]);
  assert.deepEqual(await audit(`licence=${a.id}`), [
    ["licence.revoke", "admin:admin", a.id],
    ["licence.add", "test", a.id],
  ]);
  assert.deepEqual(await audit("action=licence.add&actor=test&limit=1"), [
    ["licence.add", "test", b.id],
  ]);
  assert.deepEqual(await audit("actor=admin:admin&action=licence.update"), [
    ["licence.update", "admin:admin", b.id],
  ]);
  for (const bad of ["limit=0", "limit=1001", "limit=ten", "licence=first"]) {
    const res = await send(node, `audit?${bad}`);
    assertError(res, 400, "invalid_request");
    assert.match(res.body.error.message, new RegExp(`"${bad.split("=")[0]}"`));
  }
});

Deno.test("GET and POST /admin/api/statement read and publish the KSN Statement", async () => {
  await using node = await operator();
  const { key } = addLicence(node, "Acme");
  await participate(node, key);
  const before = await send(node, "statement");
  assert.equal(before.status, 200);
  assert.equal(before.body.version, 1);
  assert.ok(before.body.text.length > 0);
  assert.equal(before.body.acceptedVersion, null);
  const res = await send(node, "statement", { json: { text: "Statement, second edition" } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.version, 2);
  assert.equal(res.body.text, "Statement, second edition\n");
  assert.equal((await api(node, "/v1/statement")).body.version, 2);
  // Clients must accept the new version before their next look-up.
  assertError(await lookup(node, key), 403, "participation_required");
  const audit = (await send(node, "audit?action=statement.publish")).body.entries;
  assert.deepEqual(audit.map((e: { actor: string; detail: unknown }) => [e.actor, e.detail]), [
    ["admin:admin", { version: 2 }],
  ]);
});

Deno.test("POST /admin/api/statement refuses a missing, empty or unchanged text with 400", async () => {
  await using node = await operator();
  const missing = await send(node, "statement", { json: {} });
  assertError(missing, 400, "invalid_request");
  assert.match(missing.body.error.message, /"text"/);
  assertError(await send(node, "statement", { json: { text: "  " } }), 400, "invalid_statement");
  const current = (await send(node, "statement")).body.text;
  assertError(await send(node, "statement", { json: { text: current } }), 400, "invalid_statement");
  assert.equal((await send(node, "statement")).body.version, 1);
});

Deno.test("licence routes answer 405 with Allow for other methods", async () => {
  await using node = await operator();
  const cases: [string, string, string][] = [
    ["DELETE", "licences", "GET, POST, HEAD"],
    ["DELETE", "licences/1", "PATCH"],
    ["GET", "licences/import", "POST"],
    ["PATCH", "licences/import", "POST"],
    ["GET", "licences/1/rotate", "POST"],
    ["POST", "audit", "GET, HEAD"],
    ["PUT", "statement", "GET, POST, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await send(node, path, { method });
    assertError(res, 405, "method_not_allowed");
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
  }
});
