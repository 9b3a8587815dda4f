/**
 * DNS over UDP, through `node:dgram` (Deno's own datagram sockets still need an unstable flag).
 * Each datagram is answered at once, synchronously; what cannot be answered is dropped, and
 * nothing a client sends can throw out of the socket's handler.
 */
import dgram from "node:dgram";
import type { Logger } from "../core/mod.ts";
import type { Outcome } from "./answer.ts";

/** A bound UDP socket answering queries. */
export interface UdpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Binds `hostname:port` and answers each datagram with `answer`. */
export function serveUdp(
  hostname: string,
  port: number,
  deps: { answer(bytes: Uint8Array, address: string): Outcome; log: Logger },
): Promise<UdpServer> {
  const socket = dgram.createSocket({ type: hostname.includes(":") ? "udp6" : "udp4" });
  let errorsLogged = 0;
  socket.on("message", function answerDatagram(message, peer): void {
    try {
      const outcome = deps.answer(message, peer.address);
      // A transfer never comes back over UDP: answerQuery refuses one there.
      if (outcome.kind === "reply") socket.send(outcome.bytes, peer.port, peer.address);
    } catch (err) {
      // A bug, not the client's doing; logged, but not once per datagram of a flood.
      if (errorsLogged++ < 10) {
        deps.log.error(`Cannot answer a DNS query over UDP: ${(err as Error).message}`);
      }
    }
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: hostname, port }, () => {
      socket.off("error", reject);
      socket.on("error", (err) => deps.log.warn(`DNS UDP socket: ${err.message}`));
      resolve({
        port: socket.address().port,
        close: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}
