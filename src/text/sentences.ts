// Sentence splitting for summaries: good enough for lead sentences in ar/ru/kk/en.

const SENTENCE_END = /(?<=[.!?؟…。])["»”']?\s+|\n+/u;

/** Splits cleaned text into trimmed, non-empty sentences in their original order. */
export function splitSentences(text: string): string[] {
  return text
    .split(SENTENCE_END)
    .map((s) => s.replace(/\s+/gu, ' ').trim())
    .filter((s) => s.length > 0);
}
