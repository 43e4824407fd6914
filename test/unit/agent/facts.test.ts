import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FactsReader, localAddresses, readInstanceUuid } from '../../../agent/facts.js';
import { parseAgentConfig } from '../../../agent/config.js';
import { tempDir } from '../../tmp.js';

const U = '5B6F1C2E-9A43-4E4B-8C11-0D2E3F4A5B6C';

function rootWithDmi(content?: string): string {
  const root = tempDir('nw-facts-');
  if (content !== undefined) {
    mkdirSync(path.join(root, 'sys/class/dmi/id'), { recursive: true });
    writeFileSync(path.join(root, 'sys/class/dmi/id/product_uuid'), content);
  }
  return root;
}

describe('worker facts', () => {
  it('instanceUuid is the product_uuid under the root, lowercased; garbage or absence gives none', () => {
    expect(readInstanceUuid(rootWithDmi(`${U}\n`))).toBe(U.toLowerCase());
    expect(readInstanceUuid(rootWithDmi('Not Settable\n'))).toBeUndefined();
    expect(readInstanceUuid(rootWithDmi())).toBeUndefined();
  });

  it('agent.yaml instanceUuid overrides DMI; runtime comes from the desired state, else detection', () => {
    const root = rootWithDmi(U);
    const cfg = parseAgentConfig(`root: ${root}\ninstanceUuid: AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE\n`);
    expect(cfg.instanceUuid).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    expect(new FactsReader(root, cfg.instanceUuid).read('rkt', 'w1')).toMatchObject({ hostname: 'w1', runtime: 'rkt', instanceUuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' });
    expect(new FactsReader(root, null).read(undefined)).toMatchObject({ runtime: 'native', instanceUuid: U.toLowerCase() });
    mkdirSync(path.join(root, 'usr/lib/coreos'), { recursive: true });
    writeFileSync(path.join(root, 'usr/lib/coreos/kubelet-wrapper'), '#!/bin/sh\n');
    expect(new FactsReader(root, null).read(undefined).runtime).toBe('rkt');
    expect(() => parseAgentConfig('instanceUuid: not-a-uuid\n')).toThrow(/NW_CONFIG|instanceUuid/);
  });

  it('addresses leave out loopback and IPv6 link-local', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: '10.0.0.5', family: 'IPv4', internal: false },
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: '2001:db8::5', family: 'IPv6', internal: false },
      ],
    } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
    expect(localAddresses(ifaces)).toEqual(['10.0.0.5', '2001:db8::5']);
  });
});
