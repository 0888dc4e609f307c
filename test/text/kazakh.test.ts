// Kazakh endings peeled so that one term finds the forms a report writes.

import { describe, expect, it } from 'vitest';
import { normalizeText, tokenForms } from '../../src/text/normalize.js';

const forms = (word: string) => tokenForms(normalizeText(word));
const base = (word: string) => normalizeText(word);

describe('Kazakh forms', () => {
  it.each([
    ['жарылыстан', 'жарылыс', 'ablative: from the explosion'],
    ['жарылыстардың', 'жарылыс', 'plural + genitive'],
    ['жарылды', 'жарыл', 'past tense: exploded'],
    ['өрттің', 'өрт', 'genitive of fire'],
    ['өртеніп', 'өртен', 'converb: burning'],
    ['наразылығын', 'наразылық', 'possessive + accusative, with қ voiced to ғ'],
    ['наразылар', 'наразы', 'plural'],
    ['ұсталғандардың', 'ұсталған', 'participle + plural + genitive'],
    ['Алматыдағы', 'Алматы', 'the one in Almaty'],
    ['Арыстағы', 'Арыс', 'the one in Arys'],
    ['Жаңаөзенде', 'Жаңаөзен', 'locative'],
    ['Атыраудағы', 'Атырау', 'after a vowel'],
    ['облысындағы', 'облыс', 'possessive + attributive locative'],
    ['ереуілге', 'ереуіл', 'dative'],
    ['коменданттық', 'комендант', 'adjective'],
  ])('%s is a form of %s (%s)', (word, stem) => {
    expect(forms(word)).toContain(base(stem));
  });

  it('keeps unrelated words apart: a bare dative -а is not peeled, short words stay whole', () => {
    // «орта» (middle) is not «өрт» (fire) + -а: Kazakh writes the dative of өрт as өртке.
    expect(forms('орта')).toEqual([base('орта')]);
    expect(forms('ортасы')).not.toContain(base('өрт'));
    expect(forms('ортақ')).not.toContain(base('өрт'));
    expect(forms('қала')).toEqual([base('қала')]);
  });

  it('bounds the forms of any word', () => {
    expect(forms('жарылыстарымыздағыларданмен'.repeat(3)).length).toBeLessThanOrEqual(16);
  });
});
