/**
 * The ceiling the node is measured against: plain `Deno.serve` answering every
 * request with a fixed JSON body the size of a look-up answer, with no routing,
 * no middleware and no work. Usage: hello_server.ts PORT (0 picks a free port).
 */

const BODY = JSON.stringify({
  type: "file",
  value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  verdict: "unknown",
  ttl: 300,
  source: "none",
});
const HEADERS = { "content-type": "application/json" };

const port = Number(Deno.args[0] ?? "0");
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`Invalid port "${Deno.args[0]}": expected a whole number from 0 to 65535`);
  Deno.exit(2);
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen({ hostname, port }): void {
    console.error(`hello listening on http://${hostname}:${port}`);
  },
}, function hello(): Response {
  return new Response(BODY, { headers: HEADERS });
});

Deno.addSignalListener("SIGTERM", () => {
  server.shutdown();
});
await server.finished;
