// Entry point run as `unshare -n node election-partition.js '<options JSON>'` (election-faults.ts):
// the partition scenario in its own network namespace; prints `RESULT <json>`.
import { partitionTakeoverInNamespace } from './election-faults.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as Partial<Parameters<typeof partitionTakeoverInNamespace>[0]>;
const result = await partitionTakeoverInNamespace({ ...opts, capMs: opts.capMs ?? 15_000 });
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
