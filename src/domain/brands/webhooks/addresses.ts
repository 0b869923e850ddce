import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a brand's webhooks may go. In production: HTTPS only, and never to an address of our own network
 * (loopback, private, link-local, carrier-grade NAT, unspecified, multicast), which would let a brand make
 * Ovation call its internal services. The address is checked when the endpoint is registered and again at
 * every connection, by the lookup the request itself uses, so a DNS answer changed since cannot slip past.
 * Outside production, http:// and local addresses are allowed for development and tests.
 */
export type AddressPolicy = { allowPrivate: boolean };

const PRIVATE = new BlockList();
for (const [network, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(network, bits, 'ipv4');
}
for (const [network, bits] of [
  ['::', 127], // :: and ::1
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(network, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why an endpoint URL is refused, or undefined when it may be used (its host still resolved at connection). */
export function urlProblem(text: string, policy: AddressPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) return 'must be an https:// URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host)))) {
    return 'must not point to a loopback, private or link-local address';
  }
  return undefined;
}

/** Resolves a host and refuses it when any of its addresses is private (unless the policy allows). */
export function resolvePublic(host: string, policy: AddressPolicy): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, addresses) => {
      if (error) return reject(error);
      if (!policy.allowPrivate && addresses.some(({ address }) => isPrivateAddress(address))) {
        return reject(new Error(`${host} resolves to a loopback, private or link-local address`));
      }
      resolve(addresses);
    });
  });
}

/** A `lookup` for http(s).request that resolves through resolvePublic: the check holds at connection time. */
export function guardedLookup(policy: AddressPolicy) {
  return (host: string, options: { all?: boolean }, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    resolvePublic(host, policy).then(
      (addresses) => (options.all ? callback(null, addresses) : callback(null, addresses[0]!.address, addresses[0]!.family)),
      (error: Error) => callback(error, ''),
    );
  };
}
