import { describe, expect, it } from 'vitest';
import { guessLanguage } from '../../src/text/language.js';
import { normalizeText, normalizeTokens, tokenForms } from '../../src/text/normalize.js';
import { splitSentences } from '../../src/text/sentences.js';

describe('normalizeText', () => {
  it('strips Arabic tashkeel and tatweel and unifies alef, yaa and taa marbuta forms', () => {
    expect(normalizeText('ألْمَاتِي')).toBe(normalizeText('الماتي'));
    expect(normalizeText('احتجـــاجات')).toBe('احتجاجات');
    expect(normalizeText('إأآٱ')).toBe('اااا');
    expect(normalizeText('مستشفى')).toBe('مستشفي');
    expect(normalizeText('حالة')).toBe('حاله');
    expect(normalizeText('مؤتمر')).toBe('موتمر');
  });

  it('folds case, ё and Latin diacritics but keeps й', () => {
    expect(normalizeText('ЁЛКА Almaty CAFÉ')).toBe('елка almaty cafe');
    expect(normalizeText('Андрей')).toBe('андрей');
  });

  it('folds Kazakh letters the way Russian-language outlets spell them', () => {
    expect(normalizeText('Тоқаев')).toBe(normalizeText('Токаев'));
    expect(normalizeText('Жаңаөзен')).toBe('жанаозен');
  });

  it('is idempotent', () => {
    for (const text of ['ألما آتا', 'Қазақстан', 'Alma-Ata', 'ﻻ', 'ﬁre']) {
      expect(normalizeText(normalizeText(text))).toBe(normalizeText(text));
    }
  });
});

describe('tokens', () => {
  it('splits on punctuation in every script, Arabic comma included', () => {
    expect(normalizeTokens('ألماتي، كازاخستان؟ Alma-Ata; «Алматы»')).toEqual(['الماتي', 'كازاخستان', 'alma', 'ata', 'алматы']);
  });

  it('peels Arabic clitics and plural suffixes off a token', () => {
    expect(tokenForms('والاحتجاجات')).toContain('احتجاج');
    expect(tokenForms('بالماتي')).toContain('الماتي');
    // A name that starts like the article is kept whole among its forms.
    expect(tokenForms('الماتي')).toContain('الماتي');
  });
});

describe('guessLanguage', () => {
  it('tells Arabic, Kazakh, Russian and English apart', () => {
    expect(guessLanguage('انفجارات في ألما آتا')).toBe('ar');
    expect(guessLanguage('Жаңаөзенде наразылық акциясы жалғасуда')).toBe('kk');
    expect(guessLanguage('В Алматы прошёл митинг')).toBe('ru');
    expect(guessLanguage('Protest in Almaty')).toBe('en');
    expect(guessLanguage('42')).toBeNull();
  });
});

describe('splitSentences', () => {
  it('splits on Latin, Arabic and Cyrillic sentence ends', () => {
    expect(splitSentences('وقع انفجار. هل سمعت؟ نعم\nFirst one. Second!')).toEqual(['وقع انفجار.', 'هل سمعت؟', 'نعم', 'First one.', 'Second!']);
  });
});
