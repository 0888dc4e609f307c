// The fake Bot API for the fan-out benchmark, in its own process: sharing the sender's event loop,
// it would see requests bunched by the sender's pauses and count them as faster than they were.
// Gets {windowMs, latencyMs}; answers {type:'ready', apiRoot}; on {type:'stats'} answers with counts.

import { FakeTelegram } from '../test/support/fake-telegram.js';
import { mailbox } from './ipc.js';

const parent = mailbox(process);
const { windowMs, latencyMs } = await parent.next<{ windowMs: number; latencyMs: number }>('setup');
const telegram = await new FakeTelegram().start();
telegram.enforceRate(30, windowMs);
telegram.latencyMs = latencyMs;
process.send?.({ type: 'ready', apiRoot: telegram.apiRoot });
await parent.next('stats');
process.send?.({ type: 'stats', tooFast: telegram.tooFast, delivered: telegram.messages.length });
await telegram.stop();
process.disconnect();
