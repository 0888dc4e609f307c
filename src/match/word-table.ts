// A hash table from words to values, looked up by a word's folded characters and hash as
// `foldWords` gives them, so the words of a text need not each become a string first: most
// words of the news mean nothing to any watchlist, and for those no string is ever made.
//
// Every word of every text is looked up here, so the table is laid out for that: each entry's
// hash, and where its characters are in one pool of UTF-16 code units, in typed arrays; a lookup
// compares code units with code units, never touching a string.

import { wordHash, type FoldedWords } from '../text/normalize.js';

export class WordTable<V> {
  /** two Int32s a slot: the hash of the word there, and its entry (-1: empty) */
  private slots = WordTable.emptySlots(1024);
  /** entry → where its word's code units start in `chars`; entry + 1 → where they end */
  private bounds = new Int32Array(513);
  private chars = new Uint16Array(4096);
  private values: V[] = [];

  /** @param limit entries kept before the table starts afresh, so it cannot grow without end */
  constructor(private readonly limit: number) {}

  private static emptySlots(count: number): Int32Array {
    const slots = new Int32Array(count * 2);
    for (let i = 1; i < slots.length; i += 2) slots[i] = -1;
    return slots;
  }

  get size(): number {
    return this.values.length;
  }

  /** The value stored for word `i` of `words`, if any. */
  lookup(words: FoldedWords, i: number): V | undefined {
    const hash = words.hashes[i] ?? 0;
    const start = words.starts[i] ?? 0;
    const length = (words.ends[i] ?? 0) - start;
    const text = words.chars;
    const { slots, bounds, chars } = this;
    // A slot's hash sits beside its entry, so a probe that finds another word reads nothing else.
    const mask = (slots.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot * 2 + 1] ?? -1;
      if (entry === -1) return undefined;
      if (slots[slot * 2] !== hash) continue;
      const from = bounds[entry] ?? 0;
      if ((bounds[entry + 1] ?? 0) - from !== length) continue;
      let c = 0;
      while (c < length && chars[from + c] === text[start + c]) c++;
      if (c === length) return this.values[entry];
    }
  }

  set(word: string, value: V): void {
    if (this.values.length >= this.limit) this.clear();
    const entry = this.values.length;
    if ((entry + 1) * 2 > this.slots.length >> 1) this.rehash((this.slots.length >> 1) * 2);
    if (entry + 2 > this.bounds.length) this.bounds = grow(this.bounds, this.bounds.length * 2);
    const from = this.bounds[entry] ?? 0;
    if (from + word.length > this.chars.length) this.chars = grow(this.chars, Math.max(this.chars.length * 2, from + word.length));
    for (let c = 0; c < word.length; c++) this.chars[from + c] = word.charCodeAt(c);
    this.bounds[entry + 1] = from + word.length;
    this.values.push(value);
    this.place(wordHash(word), entry);
  }

  private place(hash: number, entry: number): void {
    const mask = (this.slots.length >> 1) - 1;
    let slot = hash & mask;
    while (this.slots[slot * 2 + 1] !== -1) slot = (slot + 1) & mask;
    this.slots[slot * 2] = hash;
    this.slots[slot * 2 + 1] = entry;
  }

  private rehash(count: number): void {
    const old = this.slots;
    this.slots = WordTable.emptySlots(count);
    for (let i = 0; i < old.length; i += 2) if ((old[i + 1] ?? -1) !== -1) this.place(old[i] ?? 0, old[i + 1] ?? 0);
  }

  private clear(): void {
    this.slots = WordTable.emptySlots(1024);
    this.bounds = new Int32Array(513);
    this.chars = new Uint16Array(4096);
    this.values = [];
  }
}

function grow<T extends Int32Array | Uint16Array>(from: T, size: number): T {
  const to = new (from.constructor as new (n: number) => T)(size);
  to.set(from);
  return to;
}
