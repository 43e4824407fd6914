import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERSION, versionInfo, versionLine } from '../../../host/build-info.js';

describe('build info', () => {
  it('VERSION is package.json version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
  it('the version line names version, commit and runtime', () => {
    expect(versionLine({ name: 'nodewright-agent', version: '0.2.0', commit: '1a2b3c4', node: 'v24.22.3', platform: 'linux-x64' })).toBe('nodewright-agent 0.2.0 (commit 1a2b3c4, node v24.22.3 linux-x64)');
    const i = versionInfo('nodewright');
    expect(i.node).toBe(process.version);
    expect(i.commit).toMatch(/^([0-9a-f]{7,}(-dirty)?|unknown)$/);
  });
});
