// An optional summariser through any OpenAI-compatible chat endpoint (SUMMARY_API_URL,
// SUMMARY_MODEL, SUMMARY_API_KEY). Off unless configured. Its answer is feed-grade text: it is
// escaped like any other, cut to the budget, and whenever the endpoint is slow, down or odd, the
// extractive summary stands instead; an alert never waits on it for long or goes out without one.

import { z } from 'zod';
import type { Item } from '../feeds/item.js';
import type { Logger } from '../log.js';
import { splitSentences } from '../text/sentences.js';
import { summarize, truncate, type Summary } from './summarize.js';

export interface Summarizer {
  summarize(item: Item, matchedForms: ReadonlySet<string>, budget: number): Promise<Summary>;
}

/** The extractive summary alone: no network. */
export const extractive: Summarizer = {
  summarize: (item, forms, budget) => Promise.resolve(summarize(item, forms, budget)),
};

export interface ChatSummarizerOptions {
  /** base URL of the API, e.g. http://127.0.0.1:8080/v1 (POSTs to {url}/chat/completions) */
  url: string;
  model: string;
  apiKey?: string | undefined;
  timeoutMs: number;
  log: Logger;
}

const ChatAnswer = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1),
});

// What the model reads: enough of the article for a summary, not a whole archive page.
const MAX_INPUT = 6000;

const LANGUAGES: Record<string, string> = { ar: 'Arabic', ru: 'Russian', kk: 'Kazakh', en: 'English' };

export class ChatSummarizer implements Summarizer {
  constructor(private readonly options: ChatSummarizerOptions) {}

  async summarize(item: Item, matchedForms: ReadonlySet<string>, budget: number): Promise<Summary> {
    const fallback = summarize(item, matchedForms, budget);
    if (!item.text.trim()) return fallback;
    const language = LANGUAGES[item.language?.slice(0, 2) ?? ''] ?? 'the language of the article';
    try {
      const response = await fetch(`${this.options.url.replace(/\/+$/u, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.options.model,
          temperature: 0,
          max_tokens: 300,
          messages: [
            {
              role: 'system',
              content: `Summarise the news article in two or three sentences, in ${language}. Say what happened, where and when. Keep names and numbers exactly. Plain text only.`,
            },
            { role: 'user', content: `${item.title}\n\n${item.text.slice(0, MAX_INPUT)}` },
          ],
        }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const answer = ChatAnswer.parse(await response.json()).choices[0]?.message.content.trim() ?? '';
      if (!answer) throw new Error('empty answer');
      const sentences = splitSentences(answer.replace(/[*_#`]+/gu, ''));
      const text = truncate(sentences.join(' '), budget);
      return { title: fallback.title, sentences: text ? [text] : fallback.sentences };
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message, item: item.link }, 'summary endpoint failed; using the extractive summary');
      return fallback;
    }
  }
}
