/**
 * A worker thread running one of the program's own modules. The worker is a blob module that
 * imports the module's URL: in the source that is the module's file; in the bundled form it is
 * the whole bundle, whose entry then sees `import.meta.main` false and so does not run the
 * command line. Every module of the bundle is loaded on each worker, so a worker module's
 * message handler must ignore messages meant for another's.
 */

/** A started worker, or why none could start; `close()` stops it. */
export interface ProgramWorker {
  worker: Worker | null;
  /** Why the worker could not be made; null when it was. */
  unstarted: string | null;
  close(): void;
}

/**
 * Starts a worker on the module at `moduleUrl` (its `import.meta.url`). `onMessage` gets what it
 * posts; `onError` why it failed (a module that cannot load, a throw nothing caught).
 */
export function startProgramWorker(
  moduleUrl: string,
  onMessage: (data: unknown) => void,
  onError: (why: string) => void,
): ProgramWorker {
  const code = `import ${JSON.stringify(moduleUrl)};`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  let worker: Worker | null = null;
  let unstarted: string | null = null;
  try {
    worker = new Worker(url, { type: "module" });
    worker.onmessage = (event: MessageEvent) => onMessage(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      onError(event.message);
    };
  } catch (err) {
    unstarted = (err as Error).message;
  }
  return {
    worker,
    unstarted,
    close(): void {
      worker?.terminate();
      URL.revokeObjectURL(url);
    },
  };
}
