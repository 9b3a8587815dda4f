/**
 * The origins the admin API answers: the node's own listen address (known once
 * the server is bound, since port 0 picks one) and `admin.allowedOrigins`. Both
 * the browser's `Origin` and the request's `Host` must name one of them. Checking
 * `Host` is what stops DNS rebinding: a rebinding page reaches the node's address
 * under the attacker's name, so its requests carry `Host: attacker.example`.
 */

// An authority as a Host header carries it: a name or IPv4 address, or an IPv6
// address in brackets, and an optional port. Anything else (paths, user info,
// spaces) is refused before it reaches the URL parser.
const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/;
const DEFAULT_PORT: Readonly<Record<string, string>> = { "http:": "80", "https:": "443" };
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"] as const;

/** An origin split into the parts the checks compare. */
interface OriginParts {
  scheme: string;
  hostname: string;
  /** The port, explicit even when it is the scheme's default. */
  port: string;
  /** Whether `port` is the scheme's default, so a Host without a port names it too. */
  defaultPort: boolean;
}

/** The admin API's allowed origins and the `Origin` and `Host` checks against them. */
export class AllowedOrigins {
  readonly #origins = new Set<string>();
  readonly #hosts = new Set<string>();

  /** Starts with the configured origins; {@link listening} adds the node's own. */
  constructor(configured: readonly string[] = []) {
    for (const origin of configured) this.#add(origin);
  }

  /**
   * Adds the origins of the address the server is bound to, `url` being its base
   * URL such as `http://127.0.0.1:8080`. A loopback address also allows
   * `localhost`, `127.0.0.1` and `[::1]`; a wildcard one (`0.0.0.0`, `::`) allows
   * those and every address of the machine's interfaces, which a rebinding page
   * cannot name either. DNS names (and a reverse proxy's origin) must be configured.
   */
  listening(url: string): void {
    const bound = parseOrigin(url);
    if (bound === null) return;
    const { scheme, hostname, port } = bound;
    const wildcard = hostname === "0.0.0.0" || hostname === "[::]";
    if (!wildcard) this.#add(`${scheme}//${hostname}:${port}`);
    if (wildcard || isLoopback(hostname)) {
      for (const name of LOOPBACK_NAMES) this.#add(`${scheme}//${name}:${port}`);
    }
    if (wildcard) {
      for (const address of interfaceAddresses()) this.#add(`${scheme}//${address}:${port}`);
    }
  }

  /** Whether a browser's `Origin` header value is an allowed origin. */
  allowsOrigin(origin: string): boolean {
    const parts = parseOrigin(origin);
    return parts !== null && this.#origins.has(originKey(parts));
  }

  /** Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) names an allowed origin. */
  allowsHost(host: string): boolean {
    const m = AUTHORITY.exec(host);
    if (m === null) return false;
    const hostname = canonicalHostname(m[1]);
    if (hostname === null) return false;
    return this.#hosts.has(m[2] === undefined ? hostname : `${hostname}:${Number(m[2])}`);
  }

  #add(origin: string): void {
    const parts = parseOrigin(origin);
    if (parts === null) return;
    const key = originKey(parts);
    if (this.#origins.has(key)) return;
    this.#origins.add(key);
    this.#hosts.add(`${parts.hostname}:${parts.port}`);
    if (parts.defaultPort) this.#hosts.add(parts.hostname);
  }
}

function parseOrigin(text: string): OriginParts | null {
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  const defaultPort = DEFAULT_PORT[url.protocol];
  if (defaultPort === undefined || url.username !== "" || url.password !== "") return null;
  return {
    scheme: url.protocol,
    hostname: url.hostname,
    port: url.port || defaultPort,
    defaultPort: url.port === "",
  };
}

function originKey(parts: OriginParts): string {
  return `${parts.scheme}//${parts.hostname}:${parts.port}`;
}

/** The hostname as the URL parser writes it (lower case, canonical IP forms), or null. */
function canonicalHostname(name: string): string | null {
  const text = `http://${name}/`;
  return URL.canParse(text) ? new URL(text).hostname : null;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\./.test(hostname);
}

/** The machine's interface addresses as URL hosts; link-local IPv6 needs a zone, so it is left out. */
function interfaceAddresses(): string[] {
  let interfaces: Deno.NetworkInterfaceInfo[];
  try {
    interfaces = Deno.networkInterfaces();
  } catch {
    return []; // without --allow-sys only the loopback names and the configured origins apply
  }
  const hosts: string[] = [];
  for (const { family, address } of interfaces) {
    if (family === "IPv4") hosts.push(address);
    else if (!/^fe[89ab]/i.test(address)) hosts.push(`[${address}]`);
  }
  return hosts;
}
