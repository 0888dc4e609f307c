import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { authorized, isLoopback, pageCredentials } from '../../src/page/access.js';

function config(http: Partial<Config['http']>): Config {
  return { file: 'steppewatch.yaml', http: { port: 8080, host: '127.0.0.1', publicUrl: null, page: true, auth: null, ...http } } as Config;
}

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('who may see the operator page', () => {
  it('knows the addresses only this machine reaches', () => {
    for (const host of ['127.0.0.1', '127.0.0.53', 'localhost', '::1', '[::1]']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.org', '128.0.0.1']) expect(isLoopback(host), host).toBe(false);
  });

  it('needs no password on loopback, and none at all while the page is off', () => {
    expect(pageCredentials(config({}), '127.0.0.1', {})).toBeNull();
    expect(pageCredentials(config({ page: false }), '0.0.0.0', {})).toBeNull();
  });

  it('refuses to serve the page beyond loopback without a password, naming the config key', () => {
    expect(() => pageCredentials(config({}), '0.0.0.0', {})).toThrow(
      /^steppewatch\.yaml: http\.auth: is needed: http\.page is on and the server listens on 0\.0\.0\.0, beyond this machine; set http\.auth \(user, password\) or HTTP_AUTH_USER and HTTP_AUTH_PASSWORD/u,
    );
    expect(() => pageCredentials(config({}), '0.0.0.0', { HTTP_AUTH_USER: 'ops' })).toThrow(/http\.auth: has a user but no password/u);
  });

  it('takes credentials from the config, the environment over it, and asks for them on loopback too when set', () => {
    const configured = config({ host: '0.0.0.0', auth: { user: 'ops', password: 'from the config file' } });
    expect(pageCredentials(configured, '0.0.0.0', {})).toEqual({ user: 'ops', password: 'from the config file' });
    expect(pageCredentials(configured, '0.0.0.0', { HTTP_AUTH_USER: 'night', HTTP_AUTH_PASSWORD: 'from the environment' })).toEqual({ user: 'night', password: 'from the environment' });
    expect(pageCredentials(config({ auth: { user: 'ops', password: 'on loopback as well' } }), '127.0.0.1', {})).toEqual({ user: 'ops', password: 'on loopback as well' });
  });

  it('lets in the right user and password only', () => {
    const credentials = { user: 'ops', password: 'pass: with a colon' };
    expect(authorized(basic('ops:pass: with a colon'), credentials)).toBe(true);
    expect(authorized(`basic   ${Buffer.from('ops:pass: with a colon').toString('base64')}`, credentials)).toBe(true);
    expect(authorized(basic('ops:pass: with a colo'), credentials)).toBe(false);
    expect(authorized(basic('Ops:pass: with a colon'), credentials)).toBe(false);
    expect(authorized(basic('ops'), credentials)).toBe(false);
    expect(authorized(undefined, credentials)).toBe(false);
    expect(authorized('Bearer abc', credentials)).toBe(false);
    expect(authorized('Basic !!!', credentials)).toBe(false);
  });
});
