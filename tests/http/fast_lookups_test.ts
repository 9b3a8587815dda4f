/**
 * The fast lane for look-ups by path answers exactly as the Hono routes do: the same status,
 * headers and body for every path it takes, and it leaves to Hono whatever it cannot read the
 * same way.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/api/app.ts";
import { AnswerText } from "../../src/api/answer_text.ts";
import { fastLookups } from "../../src/api/fast_lookups.ts";
import { resolveConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { createHttpMetrics } from "../../src/http/mod.ts";
import { EICAR, startNode } from "./_http.ts";
import type { TestNode } from "../_helpers.ts";

const SHA256_UNKNOWN = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Paths the lane answers itself. */
const TAKEN = [
  `/v1/files/${EICAR.md5}`,
  `/v1/files/${EICAR.sha256.toUpperCase()}`,
  `/v1/files/${SHA256_UNKNOWN}`,
  `/v1/files/${SHA256_UNKNOWN}?pretty=1`,
  "/v1/files/not-a-hash",
  "/v1/files/" + "a".repeat(5000),
  `/v1/certs/${"ab".repeat(32)}`,
  "/v1/certs/xyz",
  "/v1/domains/Example.COM",
  "/v1/domains/-bad_name-.example",
  "/v1/ips/192.0.2.1",
  "/v1/ips/10.0.0.0/8",
  "/v1/ips/2001:db8::1",
  "/v1/ips/10.0.0.0/99",
];

/** Paths it leaves to Hono, with why. */
const LEFT = [
  `/v1/files/%34${EICAR.md5.slice(1)}`, // percent-encoded
  `/v1/files/${EICAR.md5}/`, // a slash in a value that takes none
  "/v1/files/", // no value
  "/v1/domains/a/b",
  "/v1/ips/10.0.0.0%2F8",
  "/v1/ips/10.0.0.1/", // an empty last segment
  "/v1/ips/10.0.0.0//8",
  "/v1/urls?url=http%3A%2F%2Fexample.com%2F", // its value is in the query
  "/v1/filesx/abc",
  "/v1/node",
];

async function withApps(
  auth: boolean,
  run: (
    fast: ReturnType<typeof createApp>,
    routed: ReturnType<typeof createApp>,
    node: TestNode,
  ) => Promise<void>,
): Promise<void> {
  await using node = await startNode({ demo: true });
  const apps = [false, true].map((logRequests) => {
    const config = resolveConfig({
      dataDir: node.dataDir,
      auth: { required: auth },
      log: { requests: logRequests },
    });
    const serving = node.serving.node;
    return createApp({
      config,
      node: serving,
      metrics: createHttpMetrics(() => serving.index.current, { now: () => 0 }),
      log: memoryLogger(),
    });
  });
  await run(apps[0], apps[1], node);
}

async function snapshot(response: Response): Promise<object> {
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    retryAfter: response.headers.get("retry-after"),
    allow: response.headers.get("allow"),
    body: await response.text(),
  };
}

Deno.test("the fast lane answers every look-up path exactly as the Hono routes do", async () => {
  await withApps(false, async (fast, routed) => {
    for (const path of [...TAKEN, ...LEFT]) {
      for (const method of ["GET", "HEAD", "POST"]) {
        const request = (): Request => new Request(`http://127.0.0.1:8080${path}`, { method });
        assert.deepEqual(
          await snapshot(await fast.fetch(request())),
          await snapshot(await routed.fetch(request())),
          `${method} ${path}`,
        );
      }
    }
  });
});

Deno.test("the fast lane refuses a look-up without a licence key as the Hono routes do", async () => {
  await withApps(true, async (fast, routed) => {
    for (const path of [`/v1/files/${EICAR.md5}`, "/v1/files/not-a-hash", "/v1/ips/10.0.0.0/8"]) {
      const request = (): Request => new Request(`http://127.0.0.1:8080${path}`);
      const answer = await snapshot(await fast.fetch(request()));
      assert.equal((answer as { status: number }).status, 401, path);
      assert.deepEqual(answer, await snapshot(await routed.fetch(request())), path);
    }
  });
});

Deno.test("the fast lane takes look-ups by path and leaves the rest to Hono", async () => {
  await using node = await startNode({ demo: true });
  const serving = node.serving.node;
  const lane = fastLookups({
    reputation: serving.reputation,
    guard: null,
    answers: new AnswerText(),
    metrics: createHttpMetrics(() => serving.index.current, { now: () => 0 }),
    log: memoryLogger(),
  });
  for (const path of TAKEN) {
    assert.notEqual(lane(new Request(`http://127.0.0.1:8080${path}`)), null, path);
  }
  for (const path of LEFT) {
    assert.equal(lane(new Request(`http://127.0.0.1:8080${path}`)), null, path);
  }
  const head = new Request(`http://127.0.0.1:8080/v1/files/${EICAR.md5}`, { method: "HEAD" });
  assert.equal(lane(head), null, "HEAD");
});

Deno.test("a listed object's answer is the same text as JSON.stringify gives, asked twice", async () => {
  await using node = await startNode({ demo: true });
  const answers = new AnswerText();
  const result = node.serving.node.reputation.lookup("file", EICAR.sha256);
  assert.equal(result.via, "mirror");
  assert.equal(answers.of(result), JSON.stringify(result));
  assert.equal(answers.of(result), JSON.stringify(result));
  const unknown = node.serving.node.reputation.lookup("file", SHA256_UNKNOWN);
  assert.equal(answers.of(unknown), JSON.stringify(unknown));
});

Deno.test("a copy of a listed result, changed, is answered as it now reads, not as the original did", async () => {
  await using node = await startNode({ demo: true });
  const answers = new AnswerText();
  const result = node.serving.node.reputation.lookup("file", EICAR.sha256);
  answers.of(result); // the original's text is kept with it
  const copy = { ...result, ttl: 1 };
  assert.equal(answers.of(copy), JSON.stringify(copy));
  assert.match(answers.of(copy), /"ttl":1,/);
});
