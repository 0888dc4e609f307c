// A hash table from words to values, looked up by a word's folded characters and hash as
// `foldWords` gives them, so the words of a text need not each become a string first: most
// words of the news mean nothing to any watchlist, and for those no string is ever made.

import { wordHash, type FoldedWords } from '../text/normalize.js';

export class WordTable<V> {
  private slots = new Int32Array(1024).fill(-1);
  private keys: string[] = [];
  private hashes: number[] = [];
  private values: V[] = [];

  /** @param limit entries kept before the table starts afresh, so it cannot grow without end */
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.keys.length;
  }

  /** The value stored for word `i` of `words`, if any. */
  lookup(words: FoldedWords, i: number): V | undefined {
    const hash = words.hashes[i] ?? 0;
    const start = words.starts[i] ?? 0;
    const length = (words.ends[i] ?? 0) - start;
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] ?? -1;
      if (entry === -1) return undefined;
      if (this.hashes[entry] !== hash) continue;
      const key = this.keys[entry] ?? '';
      if (key.length !== length) continue;
      let same = true;
      for (let c = 0; c < length && same; c++) same = key.charCodeAt(c) === words.chars[start + c];
      if (same) return this.values[entry];
    }
  }

  set(word: string, value: V): void {
    if (this.keys.length >= this.limit) this.clear();
    if ((this.keys.length + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    const hash = wordHash(word);
    const entry = this.keys.push(word) - 1;
    this.hashes.push(hash);
    this.values.push(value);
    this.place(hash, entry);
  }

  private place(hash: number, entry: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
    this.slots[slot] = entry;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size).fill(-1);
    this.hashes.forEach((hash, entry) => this.place(hash, entry));
  }

  private clear(): void {
    this.slots = new Int32Array(1024).fill(-1);
    this.keys = [];
    this.hashes = [];
    this.values = [];
  }
}
