// Where a feed request may connect: a feed's server cannot redirect the worker into loopback,
// private networks or a metadata service. Names resolve through a stub (test traffic never leaves
// loopback); the feed server itself is on 127.0.0.1, allowed by name in the allow-list.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressAllowList, checkDestination, isPrivateAddress, isPrivateTarget, type Resolver } from '../../src/feeds/address.js';
import { createFeedAgent, fetchFeed } from '../../src/feeds/fetch.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/load.js';
import { FeedServer, rss } from '../support/feed-server.js';

const stub: Resolver = (host) => {
  const table: Record<string, string[]> = { 'news.example': ['93.184.216.34'], 'internal.example': ['10.0.0.7'], 'rebind.example': ['93.184.216.34', '127.0.0.1'], 'v6.example': ['::ffff:169.254.169.254'] };
  const found = table[host];
  return found ? Promise.resolve(found) : Promise.reject(new Error('ENOTFOUND'));
};

describe('private addresses', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00:ec2::254', 'fe80::1', '::ffff:127.0.0.1', '224.0.0.1'])('%s is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });
  it.each(['93.184.216.34', '8.8.8.8', '2001:4860:4860::8888', '172.32.0.1'])('%s is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('a feed configured on a private address or localhost is a local feed; a public name is not', async () => {
    expect(await isPrivateTarget('http://127.0.0.1:8000/rss', stub)).toBe(true);
    expect(await isPrivateTarget('http://localhost/rss', stub)).toBe(true);
    expect(await isPrivateTarget('https://news.example/rss', stub)).toBe(false);
    expect(await isPrivateTarget('https://internal.example/rss', stub)).toBe(true);
  });

  it('refuses a name with any private address, names what to configure, and lets the allow-list through', async () => {
    const policy = { allowPrivate: false, allowList: new AddressAllowList(), resolver: stub };
    await expect(checkDestination('https://news.example/rss', policy)).resolves.toBeUndefined();
    await expect(checkDestination('https://internal.example/rss', policy)).rejects.toThrow('refused: internal.example is a private address (10.0.0.7); list it in fetch.allow_private to allow it');
    await expect(checkDestination('https://rebind.example/', policy)).rejects.toThrow(/127\.0\.0\.1/u);
    await expect(checkDestination('http://v6.example/', policy)).rejects.toThrow(/169\.254\.169\.254/u);
    await expect(checkDestination('http://[::1]:8080/metrics', policy)).rejects.toThrow(/::1/u);
    const allowed = { ...policy, allowList: new AddressAllowList(['10.0.0.0/8']) };
    await expect(checkDestination('https://internal.example/rss', allowed)).resolves.toBeUndefined();
    await expect(checkDestination('https://internal.example/rss', { ...policy, allowPrivate: true })).resolves.toBeUndefined();
  });

  it('leaves names to a pool that checks them when it connects (one lookup, not two), and still checks address literals', async () => {
    let lookups = 0;
    const counting: Resolver = (host) => {
      lookups++;
      return stub(host);
    };
    const policy = { allowPrivate: false, allowList: new AddressAllowList(), resolver: counting, checkedAtConnect: true };
    await expect(checkDestination('https://internal.example/rss', policy)).resolves.toBeUndefined();
    expect(lookups).toBe(0);
    await expect(checkDestination('http://169.254.169.254/latest/', policy)).rejects.toThrow(/169\.254\.169\.254/u);
  });

  it('the config takes an allow-list of hosts and networks and refuses anything else', () => {
    const config = parseConfig('feeds:\n  - url: https://f.test/rss\nfetch:\n  allow_private: [intranet.local, 10.1.0.0/16, "fd00::1"]\n', 'c.yaml', {});
    expect(config.fetch.allowPrivate).toEqual(['intranet.local', '10.1.0.0/16', 'fd00::1']);
    expect(() => parseConfig('feeds:\n  - url: https://f.test/rss\nfetch:\n  allow_private: ["http://x/"]\n', 'c.yaml', {})).toThrow(ConfigError);
  });
});

describe('redirects into private ranges', () => {
  let feeds: FeedServer;
  beforeAll(async () => {
    feeds = await new FeedServer().start();
  });
  afterAll(async () => {
    await feeds.stop();
  });
  const limits = { timeoutMs: 2000, maxBytes: 1024 * 1024 };
  // The test's feed server is loopback: allowed by address, as an operator would list it.
  const access = { allowPrivate: false, allowList: new AddressAllowList(['127.0.0.1']), resolver: stub };

  it.each([
    ['the metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['a private network by name', 'http://internal.example/feed.xml'],
    ['the machine itself by IPv6', 'http://[::1]:8080/metrics'],
  ])('a redirect to %s is refused before any connection is made', async (_name, target) => {
    feeds.set('/jump.xml', { body: '', status: 302, headers: { location: target } });
    const before = feeds.requests.length;
    await expect(fetchFeed({ url: `${feeds.url}/jump.xml`, ...limits, access })).rejects.toMatchObject({ kind: 'refused', message: expect.stringMatching(/^refused: /u) as string });
    expect(feeds.requests.length).toBe(before + 1);
  });

  it('a redirect within the allowed addresses is followed', async () => {
    feeds.set('/hop.xml', { body: '', status: 302, headers: { location: '/final.xml' } });
    feeds.set('/final.xml', rss('Final', []));
    await expect(fetchFeed({ url: `${feeds.url}/hop.xml`, ...limits, access })).resolves.toMatchObject({ kind: 'ok' });
  });

  it('the public-only connection pool refuses a private address at connect time, whatever the name resolved to before', async () => {
    const port = new URL(feeds.url).port;
    const agent = createFeedAgent({ connectTimeoutMs: 2000, publicOnly: new AddressAllowList() });
    await expect(fetchFeed({ url: `http://localhost:${port}/final.xml`, ...limits, agent })).rejects.toMatchObject({ kind: 'refused' });
    await agent.close();
  });
});
