import { describe, expect, it } from 'vitest';
import { controllerStatusJson, formatControllerStatus } from '../../../../controller/commands/controller-status.js';
import { haStatusOf } from '../../../../controller/ha/status.js';

const leaderRow = { epoch: '7', term: 't-7', leader: 'b', leader_url: 'https://10.0.0.2:9443', since: '2026-12-07T10:00:00.000Z' };
const members = [
  { name: 'b', url: 'https://10.0.0.2:9443', last_heartbeat: '2026-12-07T10:05:00.000Z', age_ms: '400.5' },
  { name: 'a', url: 'https://10.0.0.1:9443', last_heartbeat: '2026-12-07T10:04:59.500Z', age_ms: 900 },
];

describe('HA status', () => {
  it('names the leader of the current term while its heartbeat is fresh, members sorted, bigints as numbers', () => {
    const s = haStatusOf(leaderRow, members, 6000);
    expect(s).toEqual({
      leader: 'b', leaderUrl: 'https://10.0.0.2:9443', epoch: 7, term: 't-7', since: '2026-12-07T10:00:00.000Z',
      members: [
        { name: 'a', url: 'https://10.0.0.1:9443', leader: false, lastHeartbeat: '2026-12-07T10:04:59.500Z', heartbeatAgeMs: 900 },
        { name: 'b', url: 'https://10.0.0.2:9443', leader: true, lastHeartbeat: '2026-12-07T10:05:00.000Z', heartbeatAgeMs: 401 },
      ],
    });
  });

  it('shows no leader when the named leader stopped heartbeating, or none was ever elected', () => {
    expect(haStatusOf(leaderRow, [{ ...members[0], age_ms: 60_000 }, members[1]], 6000)).toMatchObject({ leader: null, leaderUrl: null });
    expect(haStatusOf({ epoch: 0, term: '', leader: null, leader_url: null, since: null }, members, 6000)).toMatchObject({ leader: null, epoch: 0 });
    expect(haStatusOf(leaderRow, [members[1]], 6000).leader).toBeNull();
  });

  it('--json is exactly the contract', () => {
    const j = controllerStatusJson(haStatusOf(leaderRow, members, 6000));
    expect(j).toEqual({
      leader: 'b', epoch: 7,
      members: [
        { name: 'a', url: 'https://10.0.0.1:9443', leader: false, lastHeartbeat: '2026-12-07T10:04:59.500Z' },
        { name: 'b', url: 'https://10.0.0.2:9443', leader: true, lastHeartbeat: '2026-12-07T10:05:00.000Z' },
      ],
    });
    expect(Object.keys(j)).toEqual(['leader', 'epoch', 'members']);
  });

  it('the table: leader, epoch and term on top, one row a member, no terminal controls from member names', () => {
    const text = formatControllerStatus(haStatusOf(leaderRow, [...members, { name: 'c\u001b[2J', url: 'u', last_heartbeat: 'x', age_ms: 7_200_000 }], 6000));
    const lines = text.split('\n');
    expect(lines[0]).toBe('leader b  epoch 7  term t-7  since 2026-12-07T10:00:00.000Z');
    expect(lines[1]).toMatch(/^NAME\s+ROLE\s+URL\s+LAST HEARTBEAT\s+AGE$/);
    expect(lines[2]).toMatch(/^a\s+follower\s+https:\/\/10\.0\.0\.1:9443\s+2026-12-07T10:04:59\.500Z\s+0\.9s ago$/);
    expect(lines[3]).toMatch(/^b\s+leader\s/);
    expect(lines[4]).toMatch(/^c\[2J\s+follower\s+u\s+x\s+2h ago$/);
    expect(text).not.toContain('\u001b');
    expect(formatControllerStatus(haStatusOf({ epoch: 3, term: 't', leader: 'a', leader_url: 'u', since: null }, [], 6000)).split('\n')[0]).toMatch(/^leader none  epoch 3: /);
  });
});
