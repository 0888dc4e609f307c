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
//
// Reports arrive in time order and leave from the old end: pruning only moves `start` past them
// (lookups ignore what lies before it), and the arrays are compacted once the dead prefix fills
// more than half of them, so a long-running index costs amortised O(1) a report and stays bounded.

import { plainFeature } from './features.js';
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
  /** language-free features ("@almaty", "#explosion", "n:164", "d:01-05"), as given */
  features: readonly string[];
}

/** A stored report found by a lookup, with how similar its signature is to the probe's. */
export interface SimilarReport {
  storyId: number;
  at: number;
  language: string | null;
  similarity: number;
  entities: readonly string[];
  numbers: readonly string[];
  features: readonly string[];
}

export class ReportIndex {
  /** reports added since the last compaction; those before `start` are pruned */
  private count = 0;
  /** the oldest live report: every lookup stops before it */
  private start = 0;
  private capacity: number;
  private bucketBits: number;
  private signatures: Uint16Array;
  private storyIds: Int32Array;
  private times: Float64Array;
  private bandMasks: Uint32Array;
  private languages: Array<string | null> = [];
  private entities: Array<readonly string[]> = [];
  private numbers: Array<readonly string[]> = [];
  private features: Array<readonly string[]> = [];
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
  /** feature → the reports carrying it, oldest first */
  private byFeature = new Map<string, number[]>();

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

  /** Live reports: added and not yet pruned. */
  get size(): number {
    return this.count - this.start;
  }

  /** Report slots held (live, dead awaiting compaction, and free), for tests and the benchmark. */
  get slots(): number {
    return this.capacity;
  }

  /** Bytes held by the typed arrays, for the benchmark's memory figure. */
  get typedBytes(): number {
    return [this.signatures, this.storyIds, this.times, this.bandMasks, this.termStart, this.termCount, this.visited, this.terms, this.heads, this.next].reduce(
      (bytes, array) => bytes + array.byteLength,
      0,
    );
  }

  /** Adds a report; reports are expected in time order (see `prune`). */
  add(report: IndexedReport): void {
    if (this.count === this.capacity) {
      // Full: reclaim the pruned if they are a quarter of the room (what compacting costs is then
      // paid for by them), else make more room.
      if (this.start * 4 >= this.capacity) this.compact();
      else this.grow();
    }
    const id = this.count++;
    for (let i = 0; i < SIGNATURE_SIZE; i++) this.signatures[id * SIGNATURE_SIZE + i] = (report.signature[i] ?? 0) & 0xffff;
    this.storyIds[id] = report.storyId;
    this.times[id] = report.at;
    this.bandMasks[id] = report.bands;
    this.languages[id] = report.language;
    this.entities[id] = report.entities;
    this.numbers[id] = report.numbers;
    this.features[id] = report.features;
    const count = Math.min(report.termHashes.length, 0xffff);
    if (this.termsUsed + count > this.terms.length) this.terms = widen(this.terms, Math.max(this.terms.length * 2, this.termsUsed + count));
    this.terms.set(report.termHashes.subarray(0, count), this.termsUsed);
    this.termStart[id] = this.termsUsed;
    this.termCount[id] = count;
    this.termsUsed += count;
    this.link(id);
    // Posted without the title mark: a lookup asks for a feature wherever the report names it.
    post(this.byFeature, report.features.map(plainFeature), id);
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
        // Chains run newest first: past `start` every report is pruned.
        if (id < this.start) break;
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

  /**
   * The reports recorded at or after `since` that carry any of `features`: per feature, at most
   * `perFeature` of its newest are read (a feature every report carries must not make a lookup
   * read them all), newest first; each report once, in the order the features are given.
   */
  withFeatures(features: readonly string[], since: number, perFeature = 64, termHashes?: Uint32Array): SimilarReport[] {
    const lookup = ++this.lookups;
    const found: SimilarReport[] = [];
    for (const feature of features) {
      this.eachPosted(this.byFeature.get(plainFeature(feature)), since, perFeature, (id) => {
        if (this.visited[id] === lookup) return;
        this.visited[id] = lookup;
        // With the probe's terms, each report says how many words it shares (for rewrites in one language).
        found.push(this.describe(id, termHashes ? jaccard(termHashes, this.termsOf(id)) : 0));
      });
    }
    return found;
  }

  /** How many live reports recorded at or after `since` carry `feature`: what is rare tells more. */
  featureCount(feature: string, since: number): number {
    const ids = this.byFeature.get(plainFeature(feature));
    if (!ids) return 0;
    return ids.length - this.firstAtOrAfter(ids.length, (i) => ids[i] ?? 0, since);
  }

  /** How many live reports were recorded at or after `since`. */
  countSince(since: number): number {
    const live = this.count - this.start;
    return live - this.firstAtOrAfter(live, (i) => this.start + i, since);
  }

  /** The first position whose report is live and recorded at or after `since` (reports come in time order). */
  private firstAtOrAfter(length: number, idAt: (i: number) => number, since: number): number {
    let low = 0;
    let high = length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const id = idAt(mid);
      if (id < this.start || (this.times[id] ?? 0) < since) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Calls `visit` with the live reports of a posting list at or after `since`, newest first, at most `limit`. */
  private eachPosted(ids: number[] | undefined, since: number, limit: number, visit: (id: number) => void): void {
    if (!ids) return;
    let read = 0;
    for (let i = ids.length - 1; i >= 0 && read < limit; i--, read++) {
      const id = ids[i] ?? 0;
      if (id < this.start || (this.times[id] ?? 0) < since) break;
      visit(id);
    }
  }

  /**
   * Forgets the reports recorded before `before`, from the oldest on: O(reports pruned). A report
   * recorded out of order (older than one before it) waits for those before it to go; lookups'
   * `since` keeps it out of answers meanwhile.
   */
  prune(before: number): void {
    while (this.start < this.count && (this.times[this.start] ?? 0) < before) this.start++;
    // Compacting costs the live reports, paid once the dead outnumber half the room: amortised O(1).
    if (this.start * 2 > this.capacity) this.compact();
  }

  /** Moves the live reports to the front of the arrays and relinks them; the pruned are gone. */
  private compact(): void {
    const dead = this.start;
    if (dead === 0) return;
    const live = this.count - dead;
    this.signatures.copyWithin(0, dead * SIGNATURE_SIZE, this.count * SIGNATURE_SIZE);
    this.storyIds.copyWithin(0, dead, this.count);
    this.times.copyWithin(0, dead, this.count);
    this.bandMasks.copyWithin(0, dead, this.count);
    this.termCount.copyWithin(0, dead, this.count);
    this.languages.splice(0, dead);
    this.entities.splice(0, dead);
    this.numbers.splice(0, dead);
    this.features.splice(0, dead);
    // Terms were appended in report order: the live ones are one run from the first live report's.
    const termsFrom = live > 0 ? (this.termStart[dead] ?? 0) : this.termsUsed;
    this.terms.copyWithin(0, termsFrom, this.termsUsed);
    this.termsUsed -= termsFrom;
    for (let id = 0; id < live; id++) this.termStart[id] = (this.termStart[id + dead] ?? 0) - termsFrom;
    this.count = live;
    this.start = 0;
    this.heads.fill(NONE);
    this.next.fill(NONE);
    for (let id = 0; id < live; id++) this.link(id);
    renumber(this.byFeature, dead);
  }

  private describe(id: number, similarity: number): SimilarReport {
    return {
      storyId: this.storyIds[id] ?? 0,
      at: this.times[id] ?? 0,
      language: this.languages[id] ?? null,
      similarity,
      entities: this.entities[id] ?? [],
      numbers: this.numbers[id] ?? [],
      features: this.features[id] ?? [],
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
    for (let id = this.start; id < this.count; id++) this.link(id);
  }
}

/** Files report `id` under each of `keys` (once per key, even if repeated). */
function post(lists: Map<string, number[]>, keys: readonly string[], id: number): void {
  for (const key of keys) {
    const list = lists.get(key);
    if (!list) lists.set(key, [id]);
    else if (list[list.length - 1] !== id) list.push(id);
  }
}

/** Drops the first `dead` report numbers from posting lists and shifts the rest down; empty lists go. */
function renumber(lists: Map<string, number[]>, dead: number): void {
  for (const [key, ids] of lists) {
    let first = 0;
    while (first < ids.length && (ids[first] ?? 0) < dead) first++;
    if (first === ids.length) {
      lists.delete(key);
      continue;
    }
    const kept = ids.slice(first);
    for (let i = 0; i < kept.length; i++) kept[i] = (kept[i] ?? 0) - dead;
    lists.set(key, kept);
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
