// rbd probe: with the node's own keyring (never admin) create a small uniquely named image,
// read it back, map/unmap it where the kernel has rbd, remove it — always, even after a failure.
import { access } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Host } from '../host/index.js';
import { NwError } from '../host/errors.js';
import { type CephClient, DEFAULT_CEPH_TIMEOUT_MS, Deadline, cephTimeoutArgs, clientArgs, resolveClient, runCephTool } from './client.js';
import { type ProbeResult, failed, passed } from './probe.js';

export const PROBE_IMAGE_PREFIX = 'nw-probe-';
const IMAGE_BYTES = 4 * 1024 * 1024;
/** rm gets at least this much even when the probe budget is spent (the image exists). */
const CLEANUP_MIN_MS = 5_000;

export function probeImageName(node = hostname()): string {
  const safe = node.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `${PROBE_IMAGE_PREFIX}${safe}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface RbdProbeOptions {
  pool: string;
  /** where the kernel exposes rbd; default /sys/bus/rbd */
  kernelRbdPath?: string;
}

export async function rbdProbe(host: Host, worker: CephClient, opts: RbdProbeOptions): Promise<ProbeResult> {
  const c = resolveClient(host, worker);
  const budget = c.timeoutMs ?? DEFAULT_CEPH_TIMEOUT_MS;
  const dl = new Deadline(host, budget);
  const spec = `${opts.pool}/${probeImageName()}`;
  const who = `client.${c.id.replace(/^client\./, '')} (keyring ${c.keyringPath})`;
  const timings: Record<string, number> = {};
  const details: Record<string, unknown> = { pool: opts.pool, image: spec, client: `client.${c.id.replace(/^client\./, '')}`, timings };
  let imageMayExist = false;

  const rbd = async (step: string, args: string[], timeoutMs = dl.remaining()) => {
    const t = host.clock.now();
    try {
      return await runCephTool(host, 'rbd', [...clientArgs(c), ...cephTimeoutArgs(timeoutMs), ...args], {
        timeoutMs,
        what: `rbd ${step} ${spec} as ${who}`,
        who,
        monHost: c.monHost,
      });
    } finally {
      timings[`${step}Ms`] = Math.round(host.clock.now() - t);
    }
  };

  try {
    if (/^(client\.)?admin$/.test(c.id)) throw new NwError('NW_CONFIG', 'the rbd probe runs as the node\'s own client (e.g. client.k8s), never client.admin: give the node keyring');
    try {
      await rbd('create', ['create', '--size', `${IMAGE_BYTES / 1024 / 1024}M`, '--image-feature', 'layering', spec]);
      imageMayExist = true;
    } catch (e) {
      // rbd killed by our timeout: the outcome is unknown, so clean up to be safe
      imageMayExist = e instanceof NwError && e.details?.killed === true;
      throw e;
    }
    const info = JSON.parse((await rbd('info', ['info', '--format', 'json', spec])).stdout) as { size?: number; name?: string };
    if (info.size !== IMAGE_BYTES) throw new NwError('NW_CEPH', `rbd info ${spec} reports size ${info.size}, expected ${IMAGE_BYTES}`);
    details.imageSizeBytes = info.size;
    details.kernelRbd = await kernelMapUnmap(spec, opts.kernelRbdPath ?? '/sys/bus/rbd', rbd);
  } catch (e) {
    details.cleanup = imageMayExist ? await cleanup(rbd, spec, dl) : 'nothing to remove';
    return failed('rbd', dl.elapsed(), details, e);
  }
  const cleaned = await cleanup(rbd, spec, dl);
  details.cleanup = cleaned;
  if (cleaned !== 'removed') return failed('rbd', dl.elapsed(), details, new NwError('NW_CEPH', `could not remove probe image ${spec}: ${cleaned}; remove it with \`rbd rm ${spec}\``));
  return passed('rbd', dl.elapsed(), details);
}

type RbdRun = (step: string, args: string[], timeoutMs?: number) => Promise<unknown>;

async function cleanup(rbd: RbdRun, spec: string, dl: Deadline): Promise<string> {
  try {
    await rbd('rm', ['rm', '--no-progress', spec], Math.max(dl.remaining(), CLEANUP_MIN_MS));
    return 'removed';
  } catch (e) {
    return `rm failed: ${(e as Error).message}`;
  }
}

async function kernelMapUnmap(spec: string, sysPath: string, rbd: RbdRun): Promise<string> {
  try {
    await access(sysPath);
  } catch {
    return `kernel rbd unavailable (${sysPath} missing): map/unmap skipped`;
  }
  const mapped = (await rbd('map', ['map', spec])) as { stdout: string };
  const dev = mapped.stdout.trim();
  await rbd('unmap', ['unmap', dev || spec]);
  return `mapped as ${dev} and unmapped`;
}
