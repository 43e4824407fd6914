import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { acquireLock, LOCK_FILE, ownerAlive, processStartTime } from '../../../agent/lock.js';
import { tempDir } from '../../tmp.js';

/** The pid of a process that has exited (its number is very unlikely to be reused within the test). */
const deadPid = () => spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
const codeOf = async (p: Promise<unknown>) => p.then(() => 'no error', (e) => `${e.code}: ${e.message}`);

describe('reconcile lock', () => {
  test('the first taker holds it; a second is NW_LOCKED naming the holder; release frees it', async () => {
    const dir = tempDir('nw-lock-');
    const lock = await acquireLock(dir, 'apply');
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
    expect(await codeOf(acquireLock(dir, 'nodewright-agent apply'))).toMatch(new RegExp(`^NW_LOCKED: nodewright-agent apply: another nodewright-agent \\(pid ${process.pid}\\) holds`));
    await lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    await (await acquireLock(dir, 'again')).release();
  });

  test('a lock left by a dead pid, by a reused pid (other start time) or with garbage is taken over', async () => {
    const dir = tempDir('nw-lock-');
    const file = path.join(dir, LOCK_FILE);
    for (const stale of [`${deadPid()} 123\n`, `${process.pid} 1\n`, 'garbage', '']) {
      writeFileSync(file, stale);
      expect(ownerAlive(stale)).toBe(false);
      const lock = await acquireLock(dir, 'run');
      expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^${process.pid} `));
      await lock.release();
    }
  });

  test('release leaves a lock that is not ours alone', async () => {
    const dir = tempDir('nw-lock-');
    const lock = await acquireLock(dir, 'run');
    writeFileSync(path.join(dir, LOCK_FILE), '1 0\n'); // e.g. taken over after we were presumed dead
    await lock.release();
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8')).toBe('1 0\n');
  });

  test('a live owner from another process blocks (pid 1 with its real start time)', async () => {
    const dir = tempDir('nw-lock-');
    writeFileSync(path.join(dir, LOCK_FILE), `1 ${processStartTime(1)}\n`);
    expect(await codeOf(acquireLock(dir, 'apply'))).toMatch(/^NW_LOCKED: .*pid 1\)/);
  });
});
