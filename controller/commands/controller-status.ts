// `nodewright controller status [--json]`: the HA status (controller/ha/status.ts) as the table
// the operator reads and as the JSON contract, both pure functions of one HaStatus.
import { NwError } from '../../host/errors.js';
import type { HaStatus } from '../ha/status.js';
import { formatTable } from './operator.js';

/** The contract of `--json`: exactly these fields (term, since and ages are the table's). */
export interface ControllerStatusJson {
  leader: string | null;
  epoch: number;
  members: { name: string; url: string; leader: boolean; lastHeartbeat: string }[];
}

export function controllerStatusJson(s: HaStatus): ControllerStatusJson {
  return {
    leader: s.leader,
    epoch: s.epoch,
    members: s.members.map((m) => ({ name: m.name, url: m.url, leader: m.leader, lastHeartbeat: m.lastHeartbeat })),
  };
}

const age = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)}s ago` : ms < 3_600_000 ? `${Math.floor(ms / 60_000)}m ago` : `${Math.floor(ms / 3_600_000)}h ago`);

export function formatControllerStatus(s: HaStatus): string {
  const head = s.leader
    ? `leader ${s.leader}  epoch ${s.epoch}${s.term ? `  term ${s.term}` : ''}${s.since ? `  since ${s.since}` : ''}`
    : `leader none  epoch ${s.epoch}: no member holds a live term (a follower takes over within seconds; if none runs, start a controller)`;
  const rows = s.members.map((m) => [m.name, m.leader ? 'leader' : 'follower', m.url, m.lastHeartbeat, age(m.heartbeatAgeMs)]);
  return `${head}\n${formatTable(['NAME', 'ROLE', 'URL', 'LAST HEARTBEAT', 'AGE'], rows)}`;
}

const str = (v: unknown): v is string => typeof v === 'string';

/**
 * GET /v1/controller/status as an HaStatus: the contract's fields are required; term, since and
 * heartbeat ages are taken when the member sends them (ages otherwise from this machine's clock).
 */
export function haStatusFromAnswer(json: unknown, now = Date.now()): HaStatus {
  const j = (json ?? {}) as Record<string, unknown>;
  const bad = (what: string) => new NwError('NW_INTERNAL', `the controller's status answer has no valid ${what}: check that every controller runs the same nodewright version`);
  if (!(j.leader === null || str(j.leader))) throw bad('leader');
  if (typeof j.epoch !== 'number' || !Number.isFinite(j.epoch)) throw bad('epoch');
  if (!Array.isArray(j.members)) throw bad('members');
  const members = j.members.map((m: Record<string, unknown>) => {
    if (!m || !str(m.name) || !str(m.url) || typeof m.leader !== 'boolean' || !str(m.lastHeartbeat)) throw bad('member');
    const age = typeof m.heartbeatAgeMs === 'number' ? m.heartbeatAgeMs : now - Date.parse(m.lastHeartbeat);
    return { name: m.name, url: m.url, leader: m.leader, lastHeartbeat: m.lastHeartbeat, heartbeatAgeMs: Number.isFinite(age) ? Math.max(0, age) : 0 };
  });
  const leaderUrl = str(j.leaderUrl) ? j.leaderUrl : (members.find((m) => m.leader)?.url ?? null);
  return { leader: j.leader, leaderUrl, epoch: j.epoch, term: str(j.term) ? j.term : '', since: str(j.since) ? j.since : null, members };
}
