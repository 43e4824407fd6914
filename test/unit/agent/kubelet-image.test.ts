// Kubelet image (rkt hosts): refs, the URL line, and the last good tag coming back while the desired one is rejected.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { planImage } from '../../../agent/steps/artifact.js';
import { imageRef, parseImageRef } from '../../../agent/kubelet-image.js';

const seed = readFileSync('lab/worker/kubelet.service.in', 'utf8').replace('@KUBELET_PORT@', '10248');
const sources = (text: string) => ({ main: { path: '/etc/systemd/system/kubelet.service', text }, dropIns: [] });
const URL = 'quay.io/coreos/hyperkube';
const v2 = { kind: 'image' as const, version: 'v2', tag: 'v2', url: URL };
const v3 = { kind: 'image' as const, version: 'v3-broken', tag: 'v3-broken', url: URL };
const none = { current: null, lastGood: null, rejected: {} };

describe('kubelet image refs and plans', () => {
  test('image refs round-trip (a URL may contain ":")', () => {
    expect(parseImageRef(imageRef(v2))).toEqual({ tag: 'v2', url: URL });
    expect(parseImageRef(imageRef({ kind: 'image', version: 'x', tag: 't1', url: 'docker://reg:5000/hk' }))).toEqual({ tag: 't1', url: 'docker://reg:5000/hk' });
    expect(parseImageRef(imageRef({ kind: 'image', version: 'x', tag: 't1' }))).toEqual({ tag: 't1' });
    expect(parseImageRef({ version: 'v2', sha256: 'a'.repeat(64) })).toBeNull();
  });

  test('sets the tag in place and adds KUBELET_IMAGE_URL; expectations for the read-back', async () => {
    const p = (await planImage({ kind: 'image', sources: sources(seed), kubelet: none }, v2, 'kubelet.service')) as any;
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0].after).toContain('Environment=KUBELET_IMAGE_TAG=v2\n');
    expect(p.changes[0].after).toMatch(/KUBELET_IMAGE_URL=quay.io\/coreos\/hyperkube/);
    expect(p.expect).toEqual([
      { variable: 'KUBELET_IMAGE_TAG', value: 'v2' },
      { variable: 'KUBELET_IMAGE_URL', value: URL },
    ]);
    expect(p.restoring).toBe(false);
    expect(await planImage({ kind: 'image', sources: sources(p.changes[0].after), kubelet: none }, v2, 'kubelet.service')).toBeNull();
  });

  test('a rejected image is held; if the unit drifted meanwhile, the last good tag is put back', async () => {
    const atV2 = ((await planImage({ kind: 'image', sources: sources(seed), kubelet: none }, v2, 'kubelet.service')) as any).changes[0].after as string;
    const kubelet = { current: imageRef(v2), lastGood: imageRef(v2), rejected: { [imageRef(v3).sha256]: { version: 'v3-broken', reason: 'healthz 500', at: '' } } };
    expect(await planImage({ kind: 'image', sources: sources(atV2), kubelet }, v3, 'kubelet.service')).toMatchObject({
      hold: true,
      state: 'rolled_back',
      message: 'kubelet image v3-broken was rolled back: healthz 500',
    });
    const drifted = atV2.replace('KUBELET_IMAGE_TAG=v2', 'KUBELET_IMAGE_TAG=v3-broken');
    const p = (await planImage({ kind: 'image', sources: sources(drifted), kubelet }, v3, 'kubelet.service')) as any;
    expect(p).toMatchObject({ kind: 'image', restoring: true, install: imageRef(v2) });
    expect(p.changes[0].after).toBe(atV2);
  });
});
