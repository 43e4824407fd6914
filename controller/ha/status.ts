// What `nodewright controller status` shows: the leadership row and every member's heartbeat, as
// read from ha_leader and ha_members (ages computed by the database's clock, one clock for all).

export interface HaMember {
  name: string;
  url: string;
  leader: boolean;
  /** ISO-8601 UTC, written by the database's clock. */
  lastHeartbeat: string;
  /** How long ago that was, by the same clock. */
  heartbeatAgeMs: number;
}

export interface HaStatus {
  /** The member holding the current term, or null when none holds one (none elected yet, or its heartbeat stopped). */
  leader: string | null;
  /** The leader's URL (where a follower sends writes: 307 or forward), null with no leader. */
  leaderUrl: string | null;
  epoch: number;
  term: string;
  since: string | null;
  members: HaMember[];
}

export interface LeaderRow { epoch: string | number; term: string; leader: string | null; leader_url: string | null; since: string | null }
export interface MemberRow { name: string; url: string; last_heartbeat: string; age_ms: string | number }

/**
 * The status from the two tables. The named leader counts only while its heartbeat is younger than
 * `staleMs` (by then its lock is released and it fenced itself): a dead leader with no follower to
 * take over shows as no leader, not as a leader that answers nothing.
 */
export function haStatusOf(row: LeaderRow, members: MemberRow[], staleMs: number): HaStatus {
  const named = Number(row.epoch) > 0 ? row.leader : null;
  const alive = members.find((m) => m.name === named && Number(m.age_ms) < staleMs);
  const leader = alive ? alive.name : null;
  return {
    leader,
    leaderUrl: leader ? row.leader_url : null,
    epoch: Number(row.epoch),
    term: row.term,
    since: row.since,
    members: members
      .map((m) => ({ name: m.name, url: m.url, leader: m.name === leader, lastHeartbeat: m.last_heartbeat, heartbeatAgeMs: Math.max(0, Math.round(Number(m.age_ms))) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
