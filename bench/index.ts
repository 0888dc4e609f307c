// `npm run bench`: every figure against a naive baseline in the same run.

import { benchChats } from './chats.js';
import { benchDedup } from './dedup.js';
import { benchExplain } from './explain.js';
import { benchFanOut } from './fanout.js';
import { benchFeedParse } from './feeds.js';
import { benchHostile } from './hostile.js';
import { benchIngest } from './ingest.js';
import { benchLatency } from './latency.js';
import { benchMatch } from './match.js';
import { benchOps } from './ops.js';
import { benchPage } from './page.js';
import { benchSoak } from './soak.js';
import { benchWorkers } from './workers.js';

process.stdout.write(`steppewatch benchmarks — node ${process.version}, ${process.platform}/${process.arch}\n`);
benchMatch();
// The built CLI end to end (npm run bench builds first), and the built matcher alone.
await benchExplain();
await benchHostile();
await benchFeedParse();
// Loopback answers in microseconds, which no real feed does: the target is judged with a modest
// simulated latency; the zero-latency run shows the pipeline's raw CPU cost beside it.
await benchIngest(100);
await benchIngest(0);
// A news site's many section feeds on one host: the per-host limit is the bound.
await benchIngest(100, 1, 100);
await benchSoak();
// Publication to alert: push, adaptive polling and a fixed schedule, each a `run` of the built CLI.
await benchLatency();
await benchWorkers();
await benchFanOut();
await benchOps();
await benchChats();
await benchPage();
// Last: a million stored reports raise this process's peak memory, which the ingest benchmark's
// child processes would inherit as their own peak (Linux keeps maxrss across fork and exec).
await benchDedup();
process.stdout.write(`\npeak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`);
