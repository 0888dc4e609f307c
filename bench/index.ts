// `npm run bench`: every figure against a naive baseline in the same run.

import { benchMatch } from './match.js';

process.stdout.write(`steppewatch benchmarks — node ${process.version}, ${process.platform}/${process.arch}\n`);
benchMatch();
process.stdout.write(`\npeak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`);
