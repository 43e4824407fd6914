import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseAgentConfig } from '../../../agent/config.js';
import { recoveryBudget, UNIT_TIMEOUT_START_SEC, worstCaseRecoveryMs } from '../../../agent/startup.js';

describe('start-up timing (issue 8 item 6)', () => {
  test('the shipped unit\'s TimeoutStartSec is the one the arithmetic uses', () => {
    const unit = readFileSync('systemd/units/nodewright-agent.service', 'utf8');
    expect(Number(/^TimeoutStartSec=(\d+)$/m.exec(unit)?.[1])).toBe(UNIT_TIMEOUT_START_SEC);
  });

  test('worst case = 2 × (daemon-reload + restart + show + gate + gate overrun)', () => {
    const k = parseAgentConfig('', 'a.yaml').kubelet; // restart 90 s, gate 60 s
    expect(worstCaseRecoveryMs(k)).toBe(2 * (90_000 + 90_000 + 15_000 + 60_000 + 12_000));
  });

  test('with the default and the largest allowed timeouts recovery cannot fit TimeoutStartSec: READY=1 must come first', () => {
    const defaults = parseAgentConfig('', 'a.yaml').kubelet;
    const largest = parseAgentConfig('kubelet:\n  restartTimeoutSec: 3600\n  healthTimeoutSec: 3600\n', 'a.yaml').kubelet;
    expect(recoveryBudget(defaults, UNIT_TIMEOUT_START_SEC)).toEqual({ worstCaseRecoveryMs: 534_000, fitsTimeoutStart: false });
    expect(recoveryBudget(largest, UNIT_TIMEOUT_START_SEC).worstCaseRecoveryMs).toBe(2 * (90_000 + 3_600_000 + 15_000 + 3_600_000 + 12_000));
    expect(recoveryBudget(largest, UNIT_TIMEOUT_START_SEC).fitsTimeoutStart).toBe(false);
    // Only tiny timeouts with a long TimeoutStartSec would fit with the 50 % margin.
    expect(recoveryBudget({ restartTimeoutMs: 1000, healthTimeoutMs: 1000 }, 600).fitsTimeoutStart).toBe(true);
    expect(recoveryBudget({ restartTimeoutMs: 1000, healthTimeoutMs: 1000 }, 300).fitsTimeoutStart).toBe(false);
  });
});
