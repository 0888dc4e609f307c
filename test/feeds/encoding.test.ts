import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeBody } from '../../src/feeds/encoding.js';

const RU = 'Протест в Алматы: задержаны десятки человек';
const AR = 'أفادت وسائل إعلام محلية في كازاخستان بسماع دوي انفجارات في ألما آتا';
const enc = (text: string, charset: string) => iconv.encode(text, charset);
const xml = (charset: string, body: string) => `<?xml version="1.0" encoding="${charset}"?><rss><title>${body}</title></rss>`;

describe('decodeBody', () => {
  it('uses the HTTP charset first', () => {
    expect(decodeBody(enc(RU, 'windows-1251'), 'application/rss+xml; charset=windows-1251')).toEqual({ text: RU, charset: 'windows-1251' });
    expect(decodeBody(enc(AR, 'windows-1256'), 'text/xml; charset="windows-1256"').text).toBe(AR);
  });

  it('then the XML prolog, then an HTML meta', () => {
    expect(decodeBody(enc(xml('KOI8-R', RU), 'koi8-r'), 'text/xml').text).toContain(RU);
    expect(decodeBody(enc(`<html><head><meta charset="windows-1256"></head>${AR}`, 'windows-1256'), null).text).toContain(AR);
    expect(decodeBody(enc(xml('ISO-8859-5', RU), 'iso-8859-5'), null)).toMatchObject({ charset: 'iso-8859-5' });
  });

  it('reads windows-1252 punctuation right (Node 20 TextDecoder does not)', () => {
    const text = '€ “quoted” it’s — Ümit';
    expect(decodeBody(enc(text, 'windows-1252'), 'text/xml; charset=windows-1252').text).toBe(text);
    // A server saying ISO-8859-1 means windows-1252, as in browsers.
    expect(decodeBody(enc(text, 'windows-1252'), 'text/xml; charset=ISO-8859-1').text).toBe(text);
  });

  it('honours a BOM over any declaration, and finds UTF-16 without one', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(RU)]);
    expect(decodeBody(bom, 'text/xml; charset=koi8-r')).toEqual({ text: RU, charset: 'utf-8' });
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), enc(AR, 'utf-16le')]);
    expect(decodeBody(le, null)).toEqual({ text: AR, charset: 'utf-16le' });
    expect(decodeBody(enc(xml('UTF-16', RU), 'utf-16be'), null)).toMatchObject({ charset: 'utf-16be' });
    expect(decodeBody(enc(xml('UTF-16', RU), 'utf-16le'), null).text).toContain(RU);
  });

  it('survives a wrong declaration either way', () => {
    // Declared windows-1251, sent as UTF-8.
    expect(decodeBody(Buffer.from(RU), 'text/xml; charset=windows-1251')).toEqual({ text: RU, charset: 'utf-8' });
    // Declared (or defaulted to) UTF-8, sent as a legacy charset: guessed from the letters.
    expect(decodeBody(enc(RU, 'windows-1251'), 'text/xml; charset=utf-8')).toEqual({ text: RU, charset: 'windows-1251' });
    expect(decodeBody(enc(RU, 'koi8-r'), null)).toEqual({ text: RU, charset: 'koi8-r' });
    expect(decodeBody(enc(AR, 'windows-1256'), null)).toEqual({ text: AR, charset: 'windows-1256' });
    // An unknown label is ignored.
    expect(decodeBody(Buffer.from(RU), 'text/xml; charset=x-unheard-of').text).toBe(RU);
  });

  it('finds UTF-16 and UTF-32 without a BOM from the first bytes, with or without a prolog, and UTF-32 by its BOM', () => {
    const feed = `<rss><title>${RU}</title></rss>`;
    for (const charset of ['utf-16le', 'utf-16be', 'utf-32le', 'utf-32be']) {
      expect(decodeBody(enc(feed, charset), null), charset).toEqual({ text: feed, charset });
      expect(decodeBody(enc(xml('UTF-16', RU), charset), null).charset, `${charset} with prolog`).toBe(charset);
    }
    expect(decodeBody(Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), enc(feed, 'utf-32le')]), null)).toEqual({ text: feed, charset: 'utf-32le' });
    expect(decodeBody(Buffer.concat([Buffer.from([0, 0, 0xfe, 0xff]), enc(feed, 'utf-32be')]), 'text/xml; charset=utf-8')).toEqual({ text: feed, charset: 'utf-32be' });
  });
});
