/** Gathering, sharing and bounding the questions to the parent, with a fake sender the test answers. */
import assert from "node:assert/strict";
import { ParentLookups } from "../../src/proxy/parent_lookups.ts";
import type { ParentAnswer, ParentLookupItem } from "../../src/upstream/mod.ts";

const WINDOW_MS = 5;

/** One call of the fake sender, answered when the test says. */
interface Sent {
  items: readonly ParentLookupItem[];
  answer(answers?: (ParentAnswer | null)[]): void;
  fail(err?: Error): void;
}

/** A sender that records each batch and leaves it unanswered until the test answers it. */
function fakeSender(): {
  send: (items: readonly ParentLookupItem[]) => Promise<(ParentAnswer | null)[]>;
  sent: Sent[];
} {
  const sent: Sent[] = [];
  function send(items: readonly ParentLookupItem[]): Promise<(ParentAnswer | null)[]> {
    return new Promise((resolve, reject) => {
      sent.push({
        items,
        answer: (answers) => resolve(answers ?? items.map(listed)),
        fail: (err) => reject(err ?? new Error("the parent is down")),
      });
    });
  }
  return { send, sent };
}

function file(n: number): ParentLookupItem {
  return { type: "file", value: n.toString(16).padStart(32, "0") };
}

function listed(item: ParentLookupItem): ParentAnswer {
  return { type: item.type as ParentAnswer["type"], value: item.value, verdict: "malicious" };
}

function lookups(
  send: ReturnType<typeof fakeSender>["send"],
  options: { maxBatchItems?: number; maxInFlight?: number; maxWaiting?: number } = {},
): ParentLookups {
  return new ParentLookups({
    send,
    windowMs: WINDOW_MS,
    maxBatchItems: options.maxBatchItems ?? 100,
    maxInFlight: options.maxInFlight ?? 4,
    maxWaiting: options.maxWaiting ?? 1000,
  });
}

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets timers and promise callbacks that are due run. */
function settle(ms = WINDOW_MS * 4): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("questions asked within the window go to the parent in one request", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send);
  const asked = [l.ask(file(1)), l.ask(file(2)), l.ask(file(3))];
  // Nothing is sent before the window closes, so later misses can join.
  assert.equal(sent.length, 0);
  assert.deepEqual(l.load, { waiting: 3, inFlight: 0 });
  await until(() => sent.length === 1, "the request");
  assert.deepEqual(sent[0].items, [file(1), file(2), file(3)]);
  assert.deepEqual(l.load, { waiting: 0, inFlight: 1 });
  sent[0].answer([listed(file(1)), null, listed(file(3))]);
  assert.deepEqual(await Promise.all(asked), [listed(file(1)), null, listed(file(3))]);
  await settle();
  assert.equal(sent.length, 1);
  assert.deepEqual(l.load, { waiting: 0, inFlight: 0 });
});

Deno.test("a thousand askers of one object share one promise and one item in one request", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send);
  const first = l.ask(file(7));
  for (let i = 0; i < 999; i++) assert.equal(l.ask({ ...file(7) }), first);
  assert.equal(l.coalesced, 999);
  await until(() => sent.length === 1, "the request");
  assert.deepEqual(sent[0].items, [file(7)]);
  // Asked again while the request is out, it still shares the answer.
  assert.equal(l.ask(file(7)), first);
  assert.equal(l.coalesced, 1000);
  sent[0].answer();
  assert.deepEqual(await first, listed(file(7)));
  await settle();
  assert.equal(sent.length, 1);
});

Deno.test("more questions than maxBatchItems are split into requests of at most maxBatchItems", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send, { maxBatchItems: 3 });
  const asked = [1, 2, 3, 4, 5, 6, 7].map((n) => l.ask(file(n)));
  // A full batch need not wait for the window.
  assert.equal(sent.length, 2);
  await until(() => sent.length === 3, "the last, partial request");
  assert.deepEqual(sent.map((s) => s.items.length), [3, 3, 1]);
  assert.deepEqual(sent.flatMap((s) => s.items), [1, 2, 3, 4, 5, 6, 7].map(file));
  for (const s of sent) s.answer();
  assert.deepEqual(await Promise.all(asked), [1, 2, 3, 4, 5, 6, 7].map((n) => listed(file(n))));
});

Deno.test("at most maxInFlight requests are out at once, and the next goes when one finishes", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send, { maxBatchItems: 1, maxInFlight: 2 });
  const asked = [1, 2, 3, 4].map((n) => l.ask(file(n)));
  await settle();
  assert.equal(sent.length, 2);
  assert.deepEqual(l.load, { waiting: 2, inFlight: 2 });
  sent[0].answer();
  assert.deepEqual(await asked[0], listed(file(1)));
  await until(() => sent.length === 3, "the third request");
  await settle();
  assert.equal(sent.length, 3);
  assert.deepEqual(l.load, { waiting: 1, inFlight: 2 });
  sent[1].answer();
  sent[2].answer();
  await until(() => sent.length === 4, "the fourth request");
  sent[3].answer();
  assert.deepEqual(await Promise.all(asked), [1, 2, 3, 4].map((n) => listed(file(n))));
  await settle();
  assert.deepEqual(l.load, { waiting: 0, inFlight: 0 });
});

Deno.test("beyond maxWaiting waiting questions a new object is not asked (undefined), a shared one still is", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send, { maxBatchItems: 10, maxInFlight: 1, maxWaiting: 3 });
  const asked = [1, 2, 3].map((n) => l.ask(file(n)));
  assert.ok(asked.every((p) => p instanceof Promise));
  assert.equal(l.ask(file(4)), undefined);
  assert.equal(l.ask(file(2)), asked[1]);
  assert.deepEqual(l.load, { waiting: 3, inFlight: 0 });
  // Questions already sent no longer wait, so there is room again.
  await until(() => sent.length === 1, "the request");
  const later = l.ask(file(4));
  assert.ok(later instanceof Promise);
  sent[0].answer();
  await until(() => sent.length === 2, "the second request");
  sent[1].answer();
  assert.deepEqual(await later, listed(file(4)));
});

Deno.test("a request that throws answers each of its questions with null, and the object can be asked afresh", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send);
  const asked = [l.ask(file(1)), l.ask(file(2))];
  await until(() => sent.length === 1, "the request");
  sent[0].fail();
  assert.deepEqual(await Promise.all(asked), [null, null]);
  const again = l.ask(file(1));
  assert.notEqual(again, asked[0]);
  await until(() => sent.length === 2, "a fresh request");
  assert.deepEqual(sent[1].items, [file(1)]);
  sent[1].answer();
  assert.deepEqual(await again, listed(file(1)));
});

Deno.test("a sender that throws before returning a promise also answers its questions with null", async () => {
  const l = lookups(() => {
    throw new Error("cannot build the request");
  });
  assert.equal(await l.ask(file(1)), null);
});

Deno.test("a request answering fewer items than asked gives null to the ones left out", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send);
  const asked = [l.ask(file(1)), l.ask(file(2))];
  await until(() => sent.length === 1, "the request");
  sent[0].answer([listed(file(1))]);
  assert.deepEqual(await Promise.all(asked), [listed(file(1)), null]);
});

Deno.test("close answers every waiting question with null and sends nothing more", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send);
  const asked = [l.ask(file(1)), l.ask(file(2)), l.ask(file(2))];
  l.close();
  assert.deepEqual(await Promise.all(asked), [null, null, null]);
  assert.deepEqual(l.load, { waiting: 0, inFlight: 0 });
  assert.equal(l.ask(file(3)), undefined);
  await settle();
  assert.equal(sent.length, 0);
});

Deno.test("close leaves a request already out to finish and answer its questions", async () => {
  const { send, sent } = fakeSender();
  const l = lookups(send, { maxBatchItems: 1, maxInFlight: 1 });
  const out = l.ask(file(1));
  const waiting = l.ask(file(2));
  assert.equal(sent.length, 1);
  l.close();
  assert.equal(await waiting, null);
  sent[0].answer();
  assert.deepEqual(await out, listed(file(1)));
  await settle();
  assert.equal(sent.length, 1);
});
