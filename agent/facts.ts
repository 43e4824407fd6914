// The worker's facts for GET /v1/status: what the controller needs to find this worker in Nova
// (instance UUID first, addresses second, hostname last) and how its kubelet runs.
// A libvirt guest's SMBIOS UUID (/sys/class/dmi/id/product_uuid, the Kubernetes node's
// systemUUID) is its Nova server id; agent.yaml `instanceUuid` overrides it for hosts without DMI.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkerFacts } from '../protocol/status.js';

export const PRODUCT_UUID_PATH = '/sys/class/dmi/id/product_uuid';
const KUBELET_WRAPPER_PATHS = ['/usr/lib/coreos/kubelet-wrapper', '/usr/lib64/coreos/kubelet-wrapper'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The product_uuid under `root`, lowercased; undefined when absent, unreadable or not a UUID. */
export function readInstanceUuid(root: string): string | undefined {
  try {
    const v = readFileSync(path.join(root, PRODUCT_UUID_PATH), 'utf8').trim().toLowerCase();
    return UUID.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Non-loopback, non-link-local addresses of this machine's interfaces. */
export function localAddresses(ifaces = os.networkInterfaces()): string[] {
  return Object.values(ifaces)
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')))
    .map((a) => a.address);
}

export function detectRuntime(root: string): 'rkt' | 'native' {
  return KUBELET_WRAPPER_PATHS.some((p) => existsSync(path.join(root, p))) ? 'rkt' : 'native';
}

/** Facts that do not change while the agent runs are read once; addresses are read every time. */
export class FactsReader {
  private uuid?: string | null;
  private detected?: 'rkt' | 'native';

  constructor(
    private readonly root: string,
    private readonly instanceUuidOverride: string | null,
  ) {}

  read(desiredRuntime: 'rkt' | 'native' | undefined, hostname = os.hostname()): WorkerFacts {
    if (this.uuid === undefined) this.uuid = this.instanceUuidOverride ?? readInstanceUuid(this.root) ?? null;
    const runtime = desiredRuntime ?? (this.detected ??= detectRuntime(this.root));
    return { hostname, addresses: localAddresses(), runtime, ...(this.uuid ? { instanceUuid: this.uuid } : {}) };
  }
}
