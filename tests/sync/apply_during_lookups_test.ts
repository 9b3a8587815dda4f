/**
 * Look-ups keep answering while the node applies a version: the apply yields
 * between batches, readers see the old rows or the new ones, never an error.
 */
import assert from "node:assert/strict";
import type { TestNode } from "../_helpers.ts";
import { fileRecords, md5Of, startFollowing, syncOf } from "./_feed.ts";

const RECORDS = 150_000;

/** One answer a look-up loop got. */
interface Answer {
  status: number;
  verdict: string | undefined;
  /** Answered after the apply started and before it finished, as the log says. */
  duringApply: boolean;
}

/**
 * Fires look-ups of records `0..RECORDS-1` from a few loops until `work`
 * settles; `applying` tells whether the log shows an apply under way.
 */
async function lookUpWhile(
  node: TestNode,
  work: Promise<unknown>,
  applying: () => boolean,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let done = false;
  const loop = async (offset: number): Promise<void> => {
    for (let i = offset; !done; i += 7919) {
      const response = await fetch(`${node.url}/v1/files/${md5Of(i % RECORDS)}`);
      const text = await response.text();
      let verdict: string | undefined;
      try {
        verdict = JSON.parse(text).verdict;
      } catch { /* not JSON: recorded as no verdict */ }
      answers.push({ status: response.status, verdict, duringApply: applying() });
    }
  };
  const loops = [0, 1, 2, 3].map((n) => loop(n * 31));
  try {
    await work;
  } finally {
    done = true;
    await Promise.all(loops);
  }
  return answers;
}

/** Whether the node's log shows `kind` being applied towards `version`, not yet done. */
function applyingNow(node: TestNode, kind: string, version: number): () => boolean {
  return () =>
    node.logLines.some((l) => l.includes(`Applying ${kind}`)) &&
    !node.logLines.some((l) => l.includes(`Mirror is at version ${version} `));
}

function assertAnswers(answers: Answer[], allowed: string[], label: string): void {
  const wrong = answers.filter((a) => a.status !== 200 || !allowed.includes(a.verdict!));
  assert.deepEqual(wrong.slice(0, 5), [], `every look-up answers 200 with ${allowed.join(" or ")}`);
  const during = answers.filter((a) => a.duringApply).length;
  console.log(`  ${answers.length} look-ups answered, ${during} of them during the ${label}`);
  assert.ok(during > 0, `some look-ups were answered during the ${label}`);
}

Deno.test("look-ups answer old or new verdicts throughout a snapshot apply", async () => {
  await using f = await startFollowing(fileRecords(RECORDS));
  const { child } = f;

  const answers = await lookUpWhile(
    child,
    syncOf(child).runOnce(),
    applyingNow(child, "snapshot", 1),
  );
  assertAnswers(answers, ["unknown", "malicious"], "snapshot apply");
  assert.equal(answers.at(-1)?.verdict, "malicious", "the last answers come from the new version");
});

Deno.test("look-ups answer old or new verdicts throughout a delta apply", async () => {
  await using f = await startFollowing(fileRecords(RECORDS));
  const { origin, child } = f;
  await syncOf(child).runOnce();
  await origin.publishRecords(fileRecords(RECORDS, "suspicious"));

  const answers = await lookUpWhile(
    child,
    syncOf(child).runOnce(),
    applyingNow(child, "delta", 2),
  );
  assertAnswers(answers, ["malicious", "suspicious"], "delta apply");
  assert.equal(answers.at(-1)?.verdict, "suspicious", "the last answers come from the new version");
});

// refreshIndex marks the sync's commit seen before it builds, so a reload check
// (refreshIfChanged) that lands during the post-apply build does not queue a
// second, identical one. The test calls refreshIfChanged itself to hit the window.
Deno.test({
  name: "an applied version rebuilds the index once, even if the reload check runs meanwhile",
  fn: async () => {
    await using f = await startFollowing(fileRecords(50_000));
    const { child } = f;
    const run = syncOf(child).runOnce();
    // The version is committed and the sync's own index build has begun.
    while (!child.logLines.some((l) => l.includes("Mirror is at version 1 "))) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await child.serving.node.refreshIfChanged();
    await run;
    await child.serving.node.refreshIfChanged();
    const rebuilt = child.logLines.filter((l) => l.includes("Reloaded reputation index"));
    assert.deepEqual(rebuilt, [], "no second build of the same data");
  },
});
