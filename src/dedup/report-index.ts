// Every recent report's fingerprint, indexed so that the reports similar to a new one are found
// without looking at the others: locality-sensitive hashing over MinHash signatures. The
// signature is cut into bands of two values; two reports whose term sets overlap by a Jaccard
// similarity J share some band with probability 1 − (1 − J²)^32 (0.98 at J = 0.35, 0.03 at
// J = 0.03), and a lookup reads only the reports in its bands' buckets. So a lookup costs the
// same with a thousand stored reports or a million.
//
// Memory is typed arrays (about 300 bytes a report): signatures kept to 16 bits a value, buckets
// as chains of report numbers, newest first, so a lookup stops at the first report older than
// its window.

import { BAND_ROWS as ROWS, jaccard, SIGNATURE_SIZE } from './fingerprint.js';

const BANDS = SIGNATURE_SIZE / ROWS;
const NONE = -1;
/** Reports sharing a band with the probe that a lookup reads, newest first (see `similar`). */
const MAX_PER_BAND = 16;

/** A report as the index keeps it. */
export interface IndexedReport {
  storyId: number;
  /** when the report was recorded (epoch ms) */
  at: number;
  language: string | null;
  /** MinHash signature (SIGNATURE_SIZE values; only the low 16 bits are kept) */
  signature: Uint32Array;
  /** the bands worth indexing (see MinHash.bands) */
  bands: number;
  /** sorted term hashes, for the exact similarity of candidates */
  termHashes: Uint32Array;
  entities: readonly string[];
  numbers: readonly string[];
}

/** A stored report found by a lookup, with how similar its signature is to the probe's. */
export interface SimilarReport {
  storyId: number;
  at: number;
  language: string | null;
  similarity: number;
  entities: readonly string[];
  numbers: readonly string[];
}

export class ReportIndex {
  private count = 0;
  private capacity: number;
  private bucketBits: number;
  private signatures: Uint16Array;
  private storyIds: Int32Array;
  private times: Float64Array;
  private bandMasks: Uint32Array;
  private languages: Array<string | null> = [];
  private entities: Array<readonly string[]> = [];
  private numbers: Array<readonly string[]> = [];
  /** every report's term hashes, one after another */
  private terms = new Uint32Array(16 * 1024);
  private termsUsed = 0;
  private termStart: Int32Array;
  /** per report, the number of the last lookup that met it: each is compared once per lookup */
  private visited: Uint32Array;
  private lookups = 0;
  private termCount: Uint16Array;
  /** per band, per bucket: the newest report in it */
  private heads: Int32Array;
  /** per report, per band: the next older report in the same bucket, and the band's key */
  private next: Int32Array;
  /** number → the reports mentioning it, oldest first: how reports in other languages meet */
  private byNumber = new Map<string, number[]>();

  constructor(initialCapacity = 1024) {
    this.capacity = Math.max(16, initialCapacity);
    this.bucketBits = bitsFor(this.capacity);
    this.signatures = new Uint16Array(this.capacity * SIGNATURE_SIZE);
    this.storyIds = new Int32Array(this.capacity);
    this.times = new Float64Array(this.capacity);
    this.bandMasks = new Uint32Array(this.capacity);
    this.termStart = new Int32Array(this.capacity);
    this.termCount = new Uint16Array(this.capacity);
    this.visited = new Uint32Array(this.capacity);
    this.heads = new Int32Array(BANDS << this.bucketBits).fill(NONE);
    this.next = new Int32Array(this.capacity * BANDS * 2).fill(NONE);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the typed arrays, for the benchmark's memory figure. */
  get typedBytes(): number {
    return [this.signatures, this.storyIds, this.times, this.bandMasks, this.termStart, this.termCount, this.visited, this.terms, this.heads, this.next].reduce(
      (bytes, array) => bytes + array.byteLength,
      0,
    );
  }

  add(report: IndexedReport): void {
    if (this.count === this.capacity) this.grow();
    const id = this.count++;
    for (let i = 0; i < SIGNATURE_SIZE; i++) this.signatures[id * SIGNATURE_SIZE + i] = (report.signature[i] ?? 0) & 0xffff;
    this.storyIds[id] = report.storyId;
    this.times[id] = report.at;
    this.bandMasks[id] = report.bands;
    this.languages[id] = report.language;
    this.entities[id] = report.entities;
    this.numbers[id] = report.numbers;
    const count = Math.min(report.termHashes.length, 0xffff);
    if (this.termsUsed + count > this.terms.length) this.terms = widen(this.terms, Math.max(this.terms.length * 2, this.termsUsed + count));
    this.terms.set(report.termHashes.subarray(0, count), this.termsUsed);
    this.termStart[id] = this.termsUsed;
    this.termCount[id] = count;
    this.termsUsed += count;
    this.link(id);
    for (const number of report.numbers) {
      const list = this.byNumber.get(number);
      if (list) list.push(id);
      else this.byNumber.set(number, [id]);
    }
  }

  /**
   * The reports recorded at or after `since` that share a band with `signature` and whose terms
   * are at least `minSimilarity` alike (exact Jaccard similarity), the most similar of each
   * story, most similar first.
   */
  similar(signature: Uint32Array, bands: number, termHashes: Uint32Array, since: number, minSimilarity = 0): SimilarReport[] {
    const probe = new Uint16Array(SIGNATURE_SIZE);
    for (let i = 0; i < SIGNATURE_SIZE; i++) probe[i] = (signature[i] ?? 0) & 0xffff;
    // In a large index many reports share a band by chance (one common word can do it): the
    // signatures' agreement, an estimate of the similarity, turns those away before the exact
    // comparison, with a margin of three standard errors of the estimate.
    const minAgreement = Math.max(0, Math.floor((minSimilarity - 3 * Math.sqrt(0.25 / SIGNATURE_SIZE)) * SIGNATURE_SIZE));
    const lookup = ++this.lookups;
    // The best report of each story: a story told a thousand times is one answer.
    const best = new Map<number, SimilarReport>();
    for (let band = 0; band < BANDS; band++) {
      if ((bands & (1 << band)) === 0) continue;
      const key = bandKey(probe, band * ROWS);
      let examined = 0;
      for (let id = this.heads[this.bucket(band, key)] ?? NONE; id !== NONE; id = this.next[(id * BANDS + band) * 2] ?? NONE) {
        // The band's values sit beside the link: a chain is walked without reading signatures.
        if (this.next[(id * BANDS + band) * 2 + 1] !== key) continue;
        // The newest reports sharing a band are enough to know their stories: a story copied
        // thousands of times must not make each new copy compare itself with every one (counted
        // whether or not another band met the report already).
        if (++examined > MAX_PER_BAND) break;
        if (this.visited[id] === lookup) continue;
        this.visited[id] = lookup;
        // Chains run newest first, but other bands' reports share the bucket: only a match stops it.
        if ((this.times[id] ?? 0) < since) break;
        if (this.agreement(id, probe) < minAgreement) continue;
        const similarity = jaccard(termHashes, this.termsOf(id));
        const storyId = this.storyIds[id] ?? 0;
        if (similarity >= minSimilarity && similarity > (best.get(storyId)?.similarity ?? -1)) best.set(storyId, this.describe(id, similarity));
      }
    }
    return [...best.values()].sort((a, b) => b.similarity - a.similarity);
  }

  /** How many signature values report `id` shares with the probe. */
  private agreement(id: number, probe: Uint16Array): number {
    let same = 0;
    const base = id * SIGNATURE_SIZE;
    for (let i = 0; i < SIGNATURE_SIZE; i++) if (this.signatures[base + i] === probe[i]) same++;
    return same;
  }

  /** The reports recorded at or after `since` that mention `number`. */
  withNumber(number: string, since: number): SimilarReport[] {
    const ids = this.byNumber.get(number) ?? [];
    const found: SimilarReport[] = [];
    for (let i = ids.length - 1; i >= 0; i--) {
      const id = ids[i] ?? 0;
      if ((this.times[id] ?? 0) < since) break;
      found.push(this.describe(id, 0));
    }
    return found;
  }

  /** Forgets the reports recorded before `before`. */
  prune(before: number): void {
    const kept: IndexedReport[] = [];
    for (let id = 0; id < this.count; id++) {
      if ((this.times[id] ?? 0) < before) continue;
      const signature = new Uint32Array(SIGNATURE_SIZE);
      for (let i = 0; i < SIGNATURE_SIZE; i++) signature[i] = this.signatures[id * SIGNATURE_SIZE + i] ?? 0;
      kept.push({ ...this.describe(id, 0), signature, bands: this.bandMasks[id] ?? 0, termHashes: this.termsOf(id).slice() });
    }
    const fresh = new ReportIndex(Math.max(1024, kept.length * 2));
    for (const report of kept) fresh.add(report);
    Object.assign(this, fresh);
  }

  private describe(id: number, similarity: number): SimilarReport {
    return {
      storyId: this.storyIds[id] ?? 0,
      at: this.times[id] ?? 0,
      language: this.languages[id] ?? null,
      similarity,
      entities: this.entities[id] ?? [],
      numbers: this.numbers[id] ?? [],
    };
  }

  private bucket(band: number, key: number): number {
    return (band << this.bucketBits) | (Math.imul(key, 0x9e3779b1) >>> (32 - this.bucketBits));
  }

  private termsOf(id: number): Uint32Array {
    const start = this.termStart[id] ?? 0;
    return this.terms.subarray(start, start + (this.termCount[id] ?? 0));
  }

  /** Puts report `id` at the head of its bucket in every band. */
  private link(id: number): void {
    const bands = this.bandMasks[id] ?? 0;
    for (let band = 0; band < BANDS; band++) {
      if ((bands & (1 << band)) === 0) continue;
      const key = bandKey(this.signatures, id * SIGNATURE_SIZE + band * ROWS);
      const bucket = this.bucket(band, key);
      this.next[(id * BANDS + band) * 2] = this.heads[bucket] ?? NONE;
      this.next[(id * BANDS + band) * 2 + 1] = key;
      this.heads[bucket] = id;
    }
  }

  /** Doubles the room, with twice the buckets so chains stay short; relinks every report. */
  private grow(): void {
    this.capacity *= 2;
    this.bucketBits = bitsFor(this.capacity);
    this.signatures = widen(this.signatures, this.capacity * SIGNATURE_SIZE);
    this.storyIds = widen(this.storyIds, this.capacity);
    this.times = widen(this.times, this.capacity);
    this.bandMasks = widen(this.bandMasks, this.capacity);
    this.termStart = widen(this.termStart, this.capacity);
    this.termCount = widen(this.termCount, this.capacity);
    this.visited = new Uint32Array(this.capacity);
    this.heads = new Int32Array(BANDS << this.bucketBits).fill(NONE);
    this.next = new Int32Array(this.capacity * BANDS * 2).fill(NONE);
    for (let id = 0; id < this.count; id++) this.link(id);
  }
}

type TypedArray = Uint16Array | Uint32Array | Int32Array | Float64Array;

/** A typed array of `length` holding `array`'s values first. */
function widen<T extends TypedArray>(array: T, length: number): T {
  const wider = new (array.constructor as new (length: number) => T)(length);
  wider.set(array);
  return wider;
}

/** A band's two 16-bit values as one 32-bit key: equal keys, equal bands. */
function bandKey(signature: Uint16Array, at: number): number {
  return (((signature[at] ?? 0) << 16) | (signature[at + 1] ?? 0)) | 0;
}

/** Buckets per band: one per report the index has room for, so chains stay about one long. */
function bitsFor(capacity: number): number {
  return Math.min(22, Math.max(8, Math.ceil(Math.log2(capacity))));
}
