// `nodewright controller status [--json]`: the HA status (controller/ha/status.ts) as the table
// the operator reads and as the JSON contract, both pure functions of one HaStatus.
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
    ? `leader ${s.leader}  epoch ${s.epoch}  term ${s.term}${s.since ? `  since ${s.since}` : ''}`
    : `leader none  epoch ${s.epoch}: no member holds a live term (a follower takes over within seconds; if none runs, start a controller)`;
  const rows = s.members.map((m) => [m.name, m.leader ? 'leader' : 'follower', m.url, m.lastHeartbeat, age(m.heartbeatAgeMs)]);
  return `${head}\n${formatTable(['NAME', 'ROLE', 'URL', 'LAST HEARTBEAT', 'AGE'], rows)}`;
}
