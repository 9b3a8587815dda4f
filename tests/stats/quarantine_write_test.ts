/** Storing a sample: a broken body is the client's fault, a failed write the node's. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AppError } from "../../src/core/errors.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { QuarantineFolder, type TempFile } from "../../src/samples/quarantine.ts";
import { tempDir } from "../_helpers.ts";
import { bytesOf, filesUnder, sampleNode, upload } from "./_samples.ts";
import { statusOf } from "../../src/http/mod.ts";

const NO_SPACE = "No space left on device (os error 28)";

function streamOf(...chunks: (Uint8Array | Error)[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller): void {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else if (next instanceof Error) controller.error(next);
      else controller.enqueue(next);
    },
  });
}

async function caught(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return err;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

Deno.test("a sample write that fails (a full disk) is 503 store_unavailable naming the quarantine folder", async () => {
  await using dir = await tempDir();
  const root = join(dir.path, "quarantine");
  const log = memoryLogger();
  const folder = new QuarantineFolder(root, {
    log,
    async openTemp(path): Promise<TempFile> {
      const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
      return {
        write: () => Promise.reject(new Error(NO_SPACE)),
        sync: () => file.sync(),
        close: () => file.close(),
      };
    },
  });
  const err = await caught(folder.writeTemp(streamOf(bytesOf(1000)), 1 << 20));
  assert.deepEqual([statusOf(err), err.code], [503, "store_unavailable"]);
  assert.ok(err.message.includes(`quarantine folder "${root}"`), err.message);
  assert.ok(err.message.includes(NO_SPACE), err.message);
  assert.deepEqual(await filesUnder(root), [], "no temporary file is left behind");
  assert.equal(log.lines.filter((l) => l.includes(" ERROR ")).length, 1);
  assert.ok(log.lines.some((l) => l.includes(err.message)), log.lines.join("\n"));
});

Deno.test("a sample whose sync fails is 503 store_unavailable and leaves no temporary file", async () => {
  await using dir = await tempDir();
  const root = join(dir.path, "quarantine");
  const folder = new QuarantineFolder(root, {
    async openTemp(path): Promise<TempFile> {
      const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
      return {
        write: (p: Uint8Array) => file.write(p),
        sync: () => Promise.reject(new Error("Input/output error (os error 5)")),
        close: () => file.close(),
      };
    },
  });
  const err = await caught(folder.writeTemp(streamOf(bytesOf(1000)), 1 << 20));
  assert.deepEqual([statusOf(err), err.code], [503, "store_unavailable"]);
  assert.deepEqual(await filesUnder(root), []);
});

Deno.test("a request body that breaks off is 400 body_incomplete and leaves no temporary file", async () => {
  await using dir = await tempDir();
  const root = join(dir.path, "quarantine");
  const folder = new QuarantineFolder(root);
  const body = streamOf(bytesOf(1000), new Error("connection reset"));
  const err = await caught(folder.writeTemp(body, 1 << 20));
  assert.deepEqual([statusOf(err), err.code], [400, "body_incomplete"]);
  assert.match(err.message, /connection reset/);
  assert.deepEqual(await filesUnder(root), []);
});

Deno.test("POST /v1/samples answers 503 store_unavailable, not 400, when the quarantine cannot be written", async () => {
  await using ctx = await sampleNode();
  const root = join(ctx.node.dataDir, "quarantine");
  await Deno.mkdir(root, { recursive: true });
  // A file where the temporary folder belongs: every write under it fails, as root too.
  await Deno.writeTextFile(join(root, "tmp"), "in the way");
  const res = await upload(ctx.node, ctx.key, bytesOf(5000));
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.equal(res.body.error.code, "store_unavailable");
  assert.ok(res.body.error.message.includes(`quarantine folder "${root}"`), res.body.error.message);
  assert.deepEqual(await filesUnder(root), ["tmp"], "nothing stored");
});
