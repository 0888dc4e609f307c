// The dry-run sink: with no Telegram token, alerts are printed to stdout.

import type { AlertSink, OutgoingMessage, SendOutcome } from './sink.js';

export class ConsoleSink implements AlertSink {
  readonly name = 'console';
  readonly minIntervalMs = 0;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  send(message: OutgoingMessage): Promise<SendOutcome> {
    const destination = message.threadId === null ? message.chat : `${message.chat} (topic ${message.threadId})`;
    const what = { alert: 'alert', digest: 'digest', edit: 'update of an earlier alert', reply: 'reply to an earlier alert' }[message.kind];
    this.out.write(`── ${what} → ${destination} ──\n${message.text}\n\n`);
    return Promise.resolve({ kind: 'sent', messageId: null });
  }
}
