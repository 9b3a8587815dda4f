/**
 * Source networks an operator admits to a keyless protocol (DNS look-ups, the compatible HTTP
 * routes for clients that cannot send a licence key): a list of CIDR networks checked against a
 * connection's peer address.
 */
import { ConfigError, InvalidInputError } from "../core/mod.ts";
import { type IpNetwork, maskTo, parseIp, parseNetwork } from "./ip.ts";

/** An allow-list of networks. */
export class NetworkList {
  readonly #networks: readonly IpNetwork[];
  /** The list as the operator wrote it, for reports. */
  readonly text: readonly string[];

  /**
   * Parses `cidrs` (bare addresses are single hosts); a bad entry is a `ConfigError` naming
   * `setting[i]` and the problem.
   */
  constructor(cidrs: readonly string[], setting: string) {
    this.text = cidrs;
    this.#networks = cidrs.map((cidr, i) => {
      try {
        return parseNetwork(cidr);
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err;
        throw new ConfigError(`${setting}[${i}]: ${err.message}`);
      }
    });
  }

  /** Whether the list is empty (nothing admitted). */
  get empty(): boolean {
    return this.#networks.length === 0;
  }

  /** Whether `address` (a peer address as the socket reports it) is in one of the networks. */
  admits(address: string): boolean {
    if (this.#networks.length === 0) return false;
    let peer;
    try {
      // A zone id ("fe80::1%eth0") says which link, not which host: the address is the rest.
      peer = parseIp(address.replace(/%.*$/, ""));
    } catch {
      return false;
    }
    for (const net of this.#networks) {
      if (net.family !== peer.family) continue;
      const masked = maskTo(peer.bytes, net.prefix);
      let same = true;
      for (let i = 0; i < masked.length && same; i++) same = masked[i] === net.bytes[i];
      if (same) return true;
    }
    return false;
  }
}
