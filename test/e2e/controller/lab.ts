// Helpers for the controller e2e: the operator CLI, the lab, waiting with a useful timeout message.
import path from 'node:path';
import { inject } from 'vitest';
import { execIn, nodewright } from './setup.js';

export const lab = () => inject('controllerLab');
export const nw = (...args: string[]) => nodewright(lab().operatorConfig, args);
export const nwJson = (...args: string[]) => JSON.parse(nw(...args, '--json'));
export const inWorker = (i: number, cmd: string, allowFail = false) => execIn(lab().workers[i].name, cmd, allowFail);

/** `artifact add` of a lab kubelet build (an identical re-add is a no-op); rollouts name it by version. */
export const addKubelet = (build: string) => nwJson('artifact', 'add', path.join(lab().share, 'kubelets', `kubelet-${build}`), '--kind', 'kubelet-binary', '--version', build);

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 200): Promise<T> {
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
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)}); controller log: ${lab().controllerLog}, journals in ${lab().share}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
