// An optional client for any OpenAI-compatible embeddings endpoint (EMBEDDINGS_API_URL), so that
// reports of one story in different languages can fold; off unless configured, never a hard dependency.

import { z } from 'zod';
import type { Logger } from '../log.js';

export interface Embedder {
  /** One unit-length vector per text, in order; null when the endpoint failed, so the caller uses the offline signature. */
  embed(texts: string[]): Promise<Float32Array[] | null>;
}

/** Cosine similarity; 0 for vectors that cannot be compared (different lengths, e.g. two models, or zero). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

// Folding must not wait on a slow endpoint: the offline signature is always there.
const DEFAULT_TIMEOUT_MS = 3000;
// Enough for the reports of a few polling cycles; an entry is 1-16 KB, so this stays small.
const CACHE_SIZE = 2000;

const EmbeddingAnswer = z.object({
  data: z.array(z.object({ embedding: z.array(z.number().finite()).min(1), index: z.number().int().nonnegative() })),
});

type FailureKind = 'timeout' | 'network' | 'http' | 'shape';

class ShapeError extends Error {}

const emptyAsUndefined = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());

class HttpEmbedder implements Embedder {
  private readonly cache = new Map<string, Float32Array>();
  // One warning per kind of failure: an endpoint that is down would otherwise warn every cycle.
  private readonly warned = new Set<FailureKind>();

  constructor(
    private readonly url: string,
    private readonly model: string,
    private readonly apiKey: string | undefined,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  async embed(texts: string[]): Promise<Float32Array[] | null> {
    // Read the cache before filling it, so that nothing this call needs is evicted on the way.
    const found = new Map<string, Float32Array>();
    const missing = new Set<string>();
    for (const text of texts) {
      if (found.has(text) || missing.has(text)) continue;
      const vector = this.cache.get(text);
      if (vector) {
        found.set(text, vector);
        this.touch(text, vector);
      } else missing.add(text);
    }
    if (missing.size > 0) {
      const asked = [...missing];
      const vectors = await this.request(asked);
      if (!vectors) return null;
      asked.forEach((text, i) => {
        const vector = vectors[i] as Float32Array;
        found.set(text, vector);
        this.remember(text, vector);
      });
    }
    return texts.map((text) => found.get(text) as Float32Array);
  }

  private async request(texts: string[]): Promise<Float32Array[] | null> {
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: this.model, input: texts }),
        // Covers reading the body too: a server that stalls mid-answer is cut off as well.
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        return this.fail('http', `HTTP ${response.status}`);
      }
      return parseAnswer(await response.json(), texts.length);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      if (err instanceof ShapeError) return this.fail('shape', err.message);
      if (err instanceof SyntaxError) return this.fail('shape', `not JSON: ${err.message}`);
      if (err.name === 'TimeoutError' || err.name === 'AbortError') return this.fail('timeout', `no answer within ${this.timeoutMs} ms`);
      const cause = (err as { cause?: unknown }).cause;
      return this.fail('network', cause instanceof Error ? `${err.message}: ${cause.message}` : err.message);
    }
  }

  private fail(kind: FailureKind, message: string): null {
    const first = !this.warned.has(kind);
    this.warned.add(kind);
    // The key is only ever in a header, never in these fields.
    this.log[first ? 'warn' : 'debug']({ err: message, kind, model: this.model }, 'embeddings endpoint failed; folding uses the offline signature');
    return null;
  }

  private remember(text: string, vector: Float32Array): void {
    this.cache.set(text, vector);
    if (this.cache.size > CACHE_SIZE) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }

  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  private touch(text: string, vector: Float32Array): void {
    this.cache.delete(text);
    this.cache.set(text, vector);
  }
}

function parseAnswer(json: unknown, count: number): Float32Array[] {
  const parsed = EmbeddingAnswer.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ShapeError(`unexpected answer: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const data = [...parsed.data.data].sort((a, b) => a.index - b.index);
  if (data.length !== count) throw new ShapeError(`${data.length} embeddings for ${count} texts`);
  const dims = data[0]?.embedding.length ?? 0;
  return data.map((entry, i) => {
    if (entry.index !== i) throw new ShapeError(`embedding indexes are not 0..${count - 1}`);
    if (entry.embedding.length !== dims) throw new ShapeError(`embeddings of ${dims} and ${entry.embedding.length} dimensions`);
    return normalise(entry.embedding);
  });
}

function normalise(values: number[]): Float32Array {
  let sum = 0;
  for (const v of values) sum += v * v;
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new ShapeError('an embedding of length zero');
  const out = new Float32Array(values.length);
  values.forEach((v, i) => (out[i] = v / norm));
  return out;
}

/**
 * The embeddings client when EMBEDDINGS_API_URL is set (the full URL of the endpoint, e.g.
 * http://127.0.0.1:8080/v1/embeddings), else null. Throws for a configuration that cannot work.
 */
export function createEmbedder(env: NodeJS.ProcessEnv, log: Logger, options: { timeoutMs?: number } = {}): Embedder | null {
  const url = emptyAsUndefined(env.EMBEDDINGS_API_URL);
  if (!url) return null;
  const model = emptyAsUndefined(env.EMBEDDINGS_MODEL);
  if (!model) throw new Error('EMBEDDINGS_MODEL is required when EMBEDDINGS_API_URL is set');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('EMBEDDINGS_API_URL must be an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('EMBEDDINGS_API_URL must be an http(s) URL');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`embeddings timeout must be a positive number of ms, not ${timeoutMs}`);
  return new HttpEmbedder(url, model, emptyAsUndefined(env.EMBEDDINGS_API_KEY), timeoutMs, log);
}
