import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigError } from '../../src/config/load.js';

const feeds = 'feeds:\n  - url: https://f.test/rss\n';

describe('polling config', () => {
  it('defaults to adaptive polling between 1 min and 2 h over a week, breaking for an hour', () => {
    expect(parseConfig(feeds, 'test.yaml', {}).polling).toEqual({ adaptive: true, minMs: 60_000, maxMs: 7_200_000, windowMs: 7 * 86_400_000, breakingMs: 3_600_000 });
    expect(parseConfig(`${feeds}polling:\n  adaptive: false\n  min: 30s\n  max: 6h\n  window: 2d\n  breaking: 2h\n`, 'test.yaml', {}).polling).toEqual({
      adaptive: false,
      minMs: 30_000,
      maxMs: 6 * 3_600_000,
      windowMs: 2 * 86_400_000,
      breakingMs: 7_200_000,
    });
  });

  it('refuses bounds that cannot hold, and unknown keys', () => {
    const problems = (yaml: string) => {
      try {
        parseConfig(`${feeds}${yaml}`, 'test.yaml', {});
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
    };
    expect(problems('polling:\n  min: 3h\n  max: 2h\n')).toEqual(['polling.min: must not be longer than polling.max']);
    expect(problems('polling:\n  min: 500ms\n')).toEqual(['polling.min: must be at least 1s']);
    expect(problems('polling:\n  every: 5m\n')).toEqual(['polling.every: unknown key']);
  });
});
