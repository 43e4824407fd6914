import { describe, it, expect } from 'vitest';
import { exec } from '../../../host/exec.js';
import { NwError } from '../../../host/errors.js';

const fail = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as NwError;
  }
  throw new Error('expected an error');
};

describe('exec', () => {
  it('captures output with an explicit environment only', async () => {
    process.env.NW_SHOULD_NOT_LEAK = 'leak';
    const r = await exec('sh', ['-c', 'echo "$FOO:${NW_SHOULD_NOT_LEAK:-none}"'], { env: { FOO: 'bar' } });
    expect(r.stdout.trim()).toBe('bar:none');
    expect(r.exitCode).toBe(0);
  });
  it('passes secrets on stdin, not argv', async () => {
    const r = await exec('cat', [], { input: 'AQ-secret' });
    expect(r.stdout).toBe('AQ-secret');
  });
  it('non-zero exit is NW_EXEC with the exit code and stderr tail', async () => {
    const e = await fail(exec('sh', ['-c', 'echo boom >&2; exit 3']));
    expect(e.code).toBe('NW_EXEC');
    expect(e.message).toMatch(/exited 3: boom/);
  });
  it('a hung command is killed at its timeout: NW_EXEC_TIMEOUT', async () => {
    const t0 = Date.now();
    const e = await fail(exec('sleep', ['30'], { timeoutMs: 200 }));
    expect(e.code).toBe('NW_EXEC_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5000);
  });
  it('a missing binary is NW_EXEC_MISSING', async () => {
    expect((await fail(exec('no-such-binary-nw', []))).code).toBe('NW_EXEC_MISSING');
  });
  it('allowFailure returns the exit code instead of throwing', async () => {
    expect((await exec('sh', ['-c', 'exit 4'], { allowFailure: true })).exitCode).toBe(4);
  });
});
