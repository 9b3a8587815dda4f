/** The parent's circuit breaker, driven by a fake clock and a fixed jitter. */
import assert from "node:assert/strict";
import { type BreakerState, CircuitBreaker } from "../../src/proxy/breaker.ts";
import { fakeClock } from "../_helpers.ts";

const OPEN_MS = 30_000;

function breaker(
  options: { random?: number; failures?: number } = {},
): { breaker: CircuitBreaker; clock: ReturnType<typeof fakeClock>; changes: BreakerState[] } {
  const clock = fakeClock();
  const changes: BreakerState[] = [];
  const b = new CircuitBreaker({
    failures: options.failures ?? 3,
    openMs: OPEN_MS,
    clock,
    // No jitter unless a test asks for it, so the open period is exactly OPEN_MS.
    random: () => options.random ?? 0,
    onChange: (state) => changes.push(state),
  });
  return { breaker: b, clock, changes };
}

function failTimes(b: CircuitBreaker, n: number): void {
  for (let i = 0; i < n; i++) b.failed();
}

Deno.test("the breaker stays closed below the failure threshold and lets every request through", () => {
  const { breaker: b } = breaker();
  failTimes(b, 2);
  assert.equal(b.state, "closed");
  assert.equal(b.open, false);
  assert.equal(b.tryRequest(), true);
  assert.equal(b.tryRequest(), true);
  assert.equal(b.retryAt, null);
});

Deno.test("a success resets the count of failures in a row", () => {
  const { breaker: b } = breaker();
  failTimes(b, 2);
  b.succeeded();
  // Two more would make four failures in all, but only two in a row.
  failTimes(b, 2);
  assert.equal(b.state, "closed");
  b.failed();
  assert.equal(b.state, "open");
});

Deno.test("the breaker opens at the failure threshold and then refuses every request", () => {
  const { breaker: b, clock } = breaker();
  failTimes(b, 3);
  assert.equal(b.state, "open");
  assert.equal(b.open, true);
  assert.equal(b.tryRequest(), false);
  assert.equal(b.retryAt, clock.now() + OPEN_MS);
  clock.set(clock.now() + OPEN_MS - 1);
  assert.equal(b.state, "open");
  assert.equal(b.tryRequest(), false);
});

Deno.test("after the open period the breaker is half-open and lets exactly one trial through", () => {
  const { breaker: b, clock } = breaker();
  failTimes(b, 3);
  clock.set(clock.now() + OPEN_MS);
  assert.equal(b.state, "half-open");
  // Nobody waits for the parent while no trial is out, so clients may wait for this one.
  assert.equal(b.open, false);
  assert.equal(b.retryAt, null);
  assert.equal(b.tryRequest(), true);
  assert.equal(b.tryRequest(), false);
  // With the trial out, clients must not queue behind it.
  assert.equal(b.open, true);
  assert.equal(b.state, "half-open");
});

Deno.test("a successful trial closes the breaker", () => {
  const { breaker: b, clock } = breaker();
  failTimes(b, 3);
  clock.set(clock.now() + OPEN_MS);
  assert.equal(b.tryRequest(), true);
  b.succeeded();
  assert.equal(b.state, "closed");
  assert.equal(b.open, false);
  assert.equal(b.tryRequest(), true);
  assert.equal(b.tryRequest(), true);
  // The count started again: one failure does not reopen it.
  b.failed();
  assert.equal(b.state, "closed");
});

Deno.test("a failed trial opens the breaker again for another full period", () => {
  const { breaker: b, clock } = breaker();
  failTimes(b, 3);
  clock.set(clock.now() + OPEN_MS);
  assert.equal(b.tryRequest(), true);
  b.failed();
  const reopenedAt = clock.now();
  assert.equal(b.state, "open");
  assert.equal(b.tryRequest(), false);
  assert.equal(b.retryAt, reopenedAt + OPEN_MS);
  clock.set(reopenedAt + OPEN_MS - 1);
  assert.equal(b.state, "open");
  clock.set(reopenedAt + OPEN_MS);
  assert.equal(b.state, "half-open");
  assert.equal(b.tryRequest(), true);
});

Deno.test("the jitter lengthens the open period by up to 20% so a fleet does not return in step", () => {
  const { breaker: b, clock } = breaker({ random: 0.999 });
  const openedAt = clock.now();
  failTimes(b, 3);
  clock.set(openedAt + OPEN_MS);
  assert.equal(b.state, "open");
  assert.equal(b.tryRequest(), false);
  assert.ok(b.retryAt! > openedAt + OPEN_MS && b.retryAt! <= openedAt + OPEN_MS * 1.2);
  clock.set(openedAt + OPEN_MS * 1.2);
  assert.equal(b.state, "half-open");
  assert.equal(b.tryRequest(), true);
});

Deno.test("onChange hears each transition once: open, half-open, open, half-open, closed", () => {
  const { breaker: b, clock, changes } = breaker();
  failTimes(b, 3);
  clock.set(clock.now() + OPEN_MS);
  b.tryRequest();
  b.failed();
  clock.set(clock.now() + OPEN_MS);
  b.tryRequest();
  // Reading the state again while half-open is no new transition.
  assert.equal(b.state, "half-open");
  b.succeeded();
  b.succeeded();
  assert.deepEqual(changes, ["open", "half-open", "open", "half-open", "closed"]);
});

Deno.test("failures of requests still out when the breaker opened neither report it again nor push the retry back", () => {
  // Several requests are in flight at once; when the parent goes down they all fail, the later
  // ones after the breaker has already opened.
  const { breaker: b, clock, changes } = breaker();
  failTimes(b, 3);
  const retryAt = b.retryAt;
  clock.set(clock.now() + 1000);
  failTimes(b, 2);
  assert.deepEqual(changes, ["open"]);
  assert.equal(b.retryAt, retryAt);
});
