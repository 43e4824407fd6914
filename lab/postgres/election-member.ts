// One election member in its own process, for the HA tests and bench P9: reads its settings as one
// JSON line on stdin (the password with them, never argv), prints one JSON line per event on
// stdout, and answers commands, one a line on stdin: `lease`, `status`, `fence-last` (the fenced
// write with the last lease it ever held, valid or not), `stop`.
// On `elected` it makes its first fenced write at once (BEGIN; FENCE_SQL; COMMIT on its own
// connection) and reports when it committed: P9 measures fault → that moment.
import { createInterface } from 'node:readline';
import pg from 'pg';
import { Election } from '../../controller/ha/election.js';
import { FENCE_SQL, type Lease } from '../../controller/ha/schema.js';
import type { ElectionTiming } from '../../controller/ha/timing.js';

export interface MemberSpec {
  name: string;
  url: string;
  connectionString: string;
  password: string;
  timing?: Partial<ElectionTiming>;
}

const out = (ev: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...ev, at: Date.now() })}\n`);

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const first = await lines.next();
const spec = JSON.parse(String(first.value)) as MemberSpec;

const election = new Election({ connectionString: spec.connectionString, password: spec.password, member: { name: spec.name, url: spec.url }, timing: spec.timing });
let lastLease: Lease | null = null;
let writer: pg.Client | null = null;

/** BEGIN; FENCE_SQL; COMMIT with this lease on the writer connection: true when the fence held. */
async function fencedWrite(lease: Lease): Promise<boolean> {
  if (!writer) {
    const c = new pg.Client({ connectionString: spec.connectionString, query_timeout: 2000, connectionTimeoutMillis: 2000 });
    c.password = spec.password;
    c.on('error', () => { if (writer === c) writer = null; });
    await c.connect();
    writer = c;
  }
  const c = writer;
  try {
    await c.query('BEGIN');
    const r = await c.query(FENCE_SQL, [lease.epoch, lease.term]);
    await c.query(r.rowCount === 1 ? 'COMMIT' : 'ROLLBACK');
    return r.rowCount === 1;
  } catch (e) {
    writer = null;
    c.end().catch(() => {});
    throw e;
  }
}

election.on('elected', (lease) => {
  lastLease = lease;
  out({ ev: 'elected', name: spec.name, ...lease });
  fencedWrite(lease).then(
    (ok) => out({ ev: 'fenced', name: spec.name, ok, epoch: lease.epoch }),
    (e: Error) => out({ ev: 'fenced', name: spec.name, ok: false, error: e.message }),
  );
});
election.on('deposed', (reason) => out({ ev: 'deposed', name: spec.name, reason }));
election.on('sessionError', (e) => out({ ev: 'session-error', name: spec.name, error: e.message }));
election.start();
out({ ev: 'started', name: spec.name, pid: process.pid });

for (;;) {
  const next = await lines.next();
  const cmd = next.done ? 'stop' : String(next.value).trim();
  try {
    if (cmd === 'lease') out({ ev: 'lease', name: spec.name, lease: election.lease() });
    else if (cmd === 'status') out({ ev: 'status', name: spec.name, status: await election.status() });
    else if (cmd === 'fence-last') out({ ev: 'fence-last', name: spec.name, ok: lastLease ? await fencedWrite(lastLease) : null, lease: lastLease });
    else if (cmd === 'stop') {
      await election.stop();
      await (writer as pg.Client | null)?.end().catch(() => {});
      out({ ev: 'stopped', name: spec.name });
      process.exit(0);
    }
  } catch (e) {
    out({ ev: `${cmd}-error`, name: spec.name, error: (e as Error).message });
  }
}
