import { describe, expect, it } from 'vitest';
import { loadEntities, loadPresets } from '../../src/config/load.js';
import { compileWatchlist, Matcher } from '../../src/match/matcher.js';
import { missingParts } from '../../src/match/missing.js';

/** The forms the matcher notes for an item that matches nothing. */
function present(matcher: Matcher, title: string, text = ''): string[] {
  const forms: string[] = [];
  expect(matcher.match(title, text, forms)).toEqual([]);
  return forms;
}

describe('what a non-matching item lacked', () => {
  const watchlist = compileWatchlist('w', 'almaty AND (protest* OR "state of emergency") -football');
  const matcher = new Matcher([watchlist]);

  it('names the required part no word of the item satisfied', () => {
    expect(missingParts(watchlist, present(matcher, 'Almaty hosts a trade fair'))).toEqual(['protest* | state of emergency']);
    expect(missingParts(watchlist, present(matcher, 'Protesters gather in Astana'))).toEqual(['almaty']);
    expect(missingParts(watchlist, present(matcher, 'Weather turns cold'))).toEqual(['almaty', 'protest* | state of emergency']);
  });

  it('names an excluded word the item had', () => {
    expect(missingParts(watchlist, present(matcher, 'Almaty football fans protest a referee'))).toEqual(['-football']);
  });

  it('names a preset part by a few of its terms, not hundreds', () => {
    const entities = loadEntities();
    const preset = loadPresets(entities).get('kazakhstan-unrest');
    if (!preset) throw new Error('no preset');
    const parts = missingParts(preset, present(new Matcher([preset]), 'Almaty hosts a trade fair', 'Visitors came from twelve countries.'));
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect(part.split(' | ').length).toBeLessThanOrEqual(6);
  });

  it('costs nothing when an item matches: the forms are noted only for items that match nothing', () => {
    const forms: string[] = [];
    expect(matcher.match('Protest in Almaty', '', forms)).toHaveLength(1);
    expect(forms).toEqual([]);
  });
});
