import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMING, electionTiming, releaseMs, sessionOptions } from '../../../../controller/ha/timing.js';

const code = (f: () => unknown) => {
  try { f(); } catch (e) { return [(e as { code: string }).code, (e as Error).message]; }
  return null;
};

describe('election timing', () => {
  it('the defaults keep the bound under the server-side release with margin', () => {
    const t = electionTiming();
    expect(t).toEqual(DEFAULT_TIMING);
    expect(electionTiming({ pollMs: undefined })).toEqual(DEFAULT_TIMING);
    expect(t.boundMs).toBeLessThanOrEqual(releaseMs(t) - 500);
    expect(t.heartbeatMs + t.queryTimeoutMs).toBeLessThanOrEqual(t.boundMs);
  });

  it('refuses a bound the server could outlive, a bound a healthy heartbeat cannot meet, an idle timeout shorter than the heartbeat, and non-numbers', () => {
    expect(code(() => electionTiming({ boundMs: 4800 }))).toEqual(['NW_CONFIG', expect.stringContaining('boundMs 4800 is not 500 ms shorter than the server-side release 5000 ms')]);
    expect(code(() => electionTiming({ tcpUserTimeoutMs: 3000 }))?.[1]).toContain('release 3000 ms');
    expect(code(() => electionTiming({ heartbeatMs: 3000 }))?.[1]).toContain('exceeds boundMs');
    expect(code(() => electionTiming({ pollMs: 6000, idleSessionTimeoutMs: 6000, tcpUserTimeoutMs: 6000 }))?.[1]).toContain('idle');
    expect(code(() => electionTiming({ pollMs: 0 }))?.[0]).toBe('NW_CONFIG');
    expect(code(() => electionTiming({ pollMs: 1.5 }))?.[0]).toBe('NW_CONFIG');
  });

  it('sets the server-side timeouts as startup options of the election session', () => {
    expect(sessionOptions(DEFAULT_TIMING)).toBe('-c idle_session_timeout=5000 -c tcp_user_timeout=5000 -c statement_timeout=1500 -c idle_in_transaction_session_timeout=5000');
  });
});
