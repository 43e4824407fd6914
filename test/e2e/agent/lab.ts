// Helpers for the agent e2e: run commands in the worker container, talk to the agent, sign bundles.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { requestJson, type JsonAnswer } from '../../../host/http-json.js';
import { loadPrivateKey, signBundle } from '../../../protocol/bundle.js';

export const lab = () => inject('agentLab');

export function sh(cmd: string, o: { allowFail?: boolean; input?: string } = {}): string {
  return shIn(lab(), cmd, o);
}

/** Run a command in the named worker container. */
export function shIn(l: { name: string; journal: string }, cmd: string, o: { allowFail?: boolean; input?: string } = {}): string {
  const r = spawnSync(path.resolve('lab/systemd/exec.sh'), ['/bin/sh', '-c', cmd], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LAB_NAME: l.name, LAB_MODE: 'hostusr' },
    encoding: 'utf8',
    input: o.input,
    timeout: 60_000,
  });
  if (r.status !== 0 && !o.allowFail) {
    throw new Error(`in container ${l.name}: \`${cmd}\` exited ${r.status}: ${r.stdout}${r.stderr}\n(container journal will be saved to ${l.journal})`);
  }
  return r.stdout;
}

/** `systemctl show UNIT -p …` in a worker, as name → value. */
export const showIn = (l: { name: string; journal: string }, unit: string, props: string[]) =>
  Object.fromEntries(
    shIn(l, `systemctl show ${unit} ${props.map((p) => `-p ${p}`).join(' ')}`)
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;

export const show = (unit: string, props: string[]) => showIn(lab(), unit, props);

export const agentUrl = (p: string) => `http://127.0.0.1:${lab().agentPort}${p}`;

/** One request on a fresh connection (the agent restarts under us: no pooled sockets). */
export function api(method: string, p: string, body?: unknown, token: string | null = lab().token): Promise<JsonAnswer> {
  return apiAt(lab().agentPort, method, p, body, token);
}

/** Like api(), against the agent listening on PORT. */
export function apiAt(port: number, method: string, p: string, body?: unknown, token: string | null = lab().token): Promise<JsonAnswer> {
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return requestJson(`http://127.0.0.1:${port}${p}`, { method, body: data, token: token ?? undefined, timeoutMs: 60_000 });
}

export const status = async () => (await api('GET', '/v1/status')).json;

export async function kubeletRecord(): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${lab().kubeletPort}/record`);
  return r.json();
}

export function kubeletBuild(name: 'v1' | 'v2' | 'v3-broken') {
  const l = lab();
  const file = path.join(l.share, 'kubelets', `kubelet-${name}`);
  const data = readFileSync(file);
  return { version: name, sha256: createHash('sha256').update(data).digest('hex'), size: data.length, file };
}

export const KEYRING = '[client.k8s]\n\tkey = AQCs2Q9bqAjCHRAAlQUF+hAiXhbErk4NdtvORQ==\n';
export const KEYRING_PATH = '/etc/ceph/ceph.client.k8s.keyring';

/** A desired state for the lab workers; `over` replaces whole top-level fields. */
export function desiredState(generation: number, nodeGroup: string, over: Record<string, unknown>) {
  return {
    schema: 1,
    generation,
    nodeGroup,
    runtime: 'rkt',
    packages: { policy: 'auto' },
    ceph: { fsid: '0b7e5a2c-1f3d-4c59-9a57-2f0c1d9e8a11', monHost: ['127.0.0.1:3300'], clientId: 'k8s', keyring: KEYRING },
    unit: { bindMounts: [{ name: 'ceph-keyring', source: KEYRING_PATH, target: KEYRING_PATH }] },
    ...over,
  };
}

export const desired = (generation: number, kubelet: { version: string; sha256: string; size: number; url: string }) =>
  desiredState(generation, 'lab', { kubelet: { kind: 'binary', ...kubelet } });

export const sign = (d: unknown) => signBundle(d, loadPrivateKey(readFileSync(path.join(lab().share, 'controller.key'), 'utf8')));

/** Poll `fn` until it returns a truthy value; a timeout names what it waited for and where the journal is. */
export function waiter(journal: () => string) {
  return async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, everyMs = 100): Promise<T> {
    const t0 = Date.now();
    let last: unknown;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
        last = v;
      } catch (e) {
        last = e;
      }
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)}); container journal: ${journal()}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
}

export const waitFor = waiter(() => `${lab().journal} (saved at teardown)`);
