// The helper thread of `explain --jsonl` on a long input: answers the batches of lines it is sent,
// in order, through its own compiled Matcher (see explain.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { LineAnswerer } from './explain-lines.js';
import type { Watchlist } from './matcher.js';

const answerer = new LineAnswerer((workerData as { watchlist: Watchlist }).watchlist);
parentPort?.on('message', ({ lines, firstLine }: { lines: string[]; firstLine: number }) => {
  parentPort?.postMessage(answerer.answer(lines, firstLine));
});
