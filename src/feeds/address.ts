// Where a feed request may connect: public addresses, and private ones (loopback, private
// networks, link-local and cloud metadata, carrier NAT, multicast, reserved) only for a feed whose
// configured URL is itself there, or an operator's allow-list. So a feed's server cannot redirect
// the worker into the machine's own ports or a metadata service.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local (metadata), reserved or multicast. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return false;
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is checked as what it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/iu.exec(address);
  return mapped ? PRIVATE.check(mapped[1] ?? '', 'ipv4') : PRIVATE.check(address, 'ipv6');
}

/** Host names and networks (CIDR, or single addresses) an operator lets feeds reach although private. */
export class AddressAllowList {
  private readonly hosts = new Set<string>();
  private readonly networks = new BlockList();

  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const family = isIP(address);
      if (family === 0) this.hosts.add(entry.toLowerCase());
      else if (prefix === undefined) this.networks.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
      else this.networks.addSubnet(address, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  allowsHost(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  allowsAddress(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.networks.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** A URL's host as a bare name or address (IPv6 without its brackets). */
export function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/gu, '');
}

/** Resolves a host to its addresses (the system resolver by default; tests give a stub). */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, addresses: LookupAddress[]) => (error ? reject(error) : resolve(addresses.map((a) => a.address))));
  });

/** A request refused because of where it would connect. */
export class AddressRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefused';
  }
}

const targetVerdicts = new Map<string, { isPrivate: boolean; at: number }>();
const TARGET_VERDICT_MS = 10 * 60_000;

/** isPrivateTarget through the system resolver, remembered for ten minutes: the cycle asks for every feed. */
export async function isPrivateTargetCached(url: string, now = Date.now()): Promise<boolean> {
  const host = hostOf(url);
  const known = targetVerdicts.get(host);
  if (known && known.at > now - TARGET_VERDICT_MS) return known.isPrivate;
  const isPrivate = await isPrivateTarget(url);
  if (targetVerdicts.size > 10_000) targetVerdicts.clear();
  targetVerdicts.set(host, { isPrivate, at: now });
  return isPrivate;
}

/** Whether the configured URL of a feed is itself private (a local feed): then it may reach private addresses. */
export async function isPrivateTarget(url: string, resolver: Resolver = systemResolver): Promise<boolean> {
  const host = hostOf(url);
  if (isIP(host) !== 0) return isPrivateAddress(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  try {
    return (await resolver(host)).some(isPrivateAddress);
  } catch {
    return false;
  }
}

/**
 * The addresses `url` may connect to under the policy, or AddressRefused: every address the host
 * resolves to must be public, allowed by the list, or the feed must be allowed private addresses.
 */
export async function checkDestination(
  url: string,
  policy: { allowPrivate: boolean; allowList: AddressAllowList; resolver?: Resolver; checkedAtConnect?: boolean },
): Promise<void> {
  if (policy.allowPrivate) return;
  const host = hostOf(url);
  if (policy.allowList.allowsHost(host)) return;
  // A name the connection pool resolves and checks itself (publicOnlyLookup) is not looked up
  // twice; an address literal never reaches a lookup, so it is checked here.
  if (isIP(host) === 0 && policy.checkedAtConnect) return;
  const addresses = isIP(host) !== 0 ? [host] : await (policy.resolver ?? systemResolver)(host).catch(() => [] as string[]);
  const refused = addresses.find((a) => isPrivateAddress(a) && !policy.allowList.allowsAddress(a));
  if (refused !== undefined) throw new AddressRefused(`refused: ${host} is a private address (${refused}); list it in fetch.allow_private to allow it`);
}

/**
 * A `lookup` for sockets that fails on private addresses: checked again at connect time, so a
 * name that resolved to a public address a moment ago cannot connect to a private one now.
 */
export function publicOnlyLookup(allowList: AddressAllowList): LookupFunction {
  return (host, options, callback) => {
    dnsLookup(host, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = addresses.filter((a) => !isPrivateAddress(a.address) || allowList.allowsAddress(a.address) || allowList.allowsHost(host));
      if (allowed.length === 0) return callback(new AddressRefused(`refused: ${host} resolves to a private address (${addresses[0]?.address ?? '?'})`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      const [first] = allowed;
      return callback(null, first?.address ?? '', first?.family ?? 4);
    });
  };
}
