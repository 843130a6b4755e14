import type { LookupAddress, LookupOptions } from "node:dns";
import { lookup as dnsLookup } from "node:dns";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type * as IpAddr from "ipaddr.js";
import { CallbackNotAllowedError } from "../errors/http.js";

// ipaddr.js is CommonJS with `export =`: load it as Node does.
const ipaddr = createRequire(import.meta.url)("ipaddr.js") as typeof IpAddr;

/**
 * Where async callbacks may go. By default only public unicast addresses: not loopback, private
 * (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata
 * address, fe80::/10), carrier-grade NAT, multicast, reserved or unspecified ones, nor an address
 * of this machine. `allow` lists the CIDR blocks (or single addresses) an operator opens anyway,
 * e.g. `["10.1.0.0/16"]` for a webhook receiver inside the network.
 */
export interface CallbackPolicy {
  allow: string[];
}

type Address = IpAddr.IPv4 | IpAddr.IPv6;

/** A policy compiled for checking. */
export class CallbackTargets {
  readonly #allow: [Address, number][];

  constructor(policy: CallbackPolicy = { allow: [] }) {
    this.#allow = policy.allow.map((block) => {
      try {
        return block.includes("/") ? ipaddr.parseCIDR(block) : cidrOf(ipaddr.parse(block));
      } catch {
        throw new RangeError(
          `gateway.callbackAllow: ${JSON.stringify(block)} is not an IP address or CIDR block such as "10.0.0.0/8"`,
        );
      }
    });
  }

  /**
   * Why `url` may not be a callback as written (not http(s), credentials in it, a host that is an
   * address or a name of this machine or of a private network), or undefined if it may be tried.
   * Names are resolved when the callback is sent ({@link lookup}), not here.
   */
  refuseUrl(url: string): string | undefined {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return "it is not a URL";
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return `${u.protocol} is not http(s)`;
    if (u.username || u.password) return "it carries credentials";
    // WHATWG URL parsing has already normalised 0x7f000001, 2130706433 and 127.1 to 127.0.0.1.
    const host = u.hostname
      .replace(/^\[|\]$/g, "")
      .replace(/\.$/, "")
      .toLowerCase();
    if (host === "localhost" || host.endsWith(".localhost")) return this.refuseAddress("127.0.0.1");
    return isIP(host) ? this.refuseAddress(host) : undefined;
  }

  /** Why `address` may not be called back, or undefined if it may. */
  refuseAddress(address: string): string | undefined {
    let a: Address;
    try {
      a = ipaddr.process(address); // ::ffff:127.0.0.1 is 127.0.0.1
    } catch {
      return `${address} is not an IP address`;
    }
    if (this.#allow.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits))) return undefined;
    const range = a.range();
    if (range !== "unicast") return `${address} is a ${range} address`;
    if (localAddresses().has(a.toNormalizedString())) return `${address} is an address of this server`;
    return undefined;
  }

  /**
   * A `lookup` for `http.request`: resolves every address of the name and fails unless all may be
   * called back, so the socket connects only to an address that was checked (a name that
   * resolves differently a moment later, DNS rebinding, changes nothing).
   */
  readonly lookup = (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const { address } of addresses) {
        const why = this.refuseAddress(address);
        if (why)
          return callback(new CallbackNotAllowedError(`${hostname} resolves to ${address}: ${why}`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
      callback(null, first.address, first.family);
    });
  };
}

function cidrOf(a: Address): [Address, number] {
  return [a, a.kind() === "ipv4" ? 32 : 128];
}

let local: { at: number; set: Set<string> } | undefined;

/** This machine's interface addresses (read at most once a minute: they rarely change). */
function localAddresses(): Set<string> {
  const now = Date.now();
  if (!local || now - local.at > 60_000) {
    const set = new Set<string>();
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) {
        try {
          set.add(ipaddr.process(i.address.split("%")[0]!).toNormalizedString());
        } catch {
          // Not an address ipaddr reads; nothing to compare with.
        }
      }
    }
    local = { at: now, set };
  }
  return local.set;
}
