// The shape every probe reports, and how a thrown error becomes a failed result.
import { asNwError } from '../host/errors.js';

export interface ProbeResult {
  name: 'rbd' | 'cephfs-quota';
  status: 'pass' | 'fail' | 'not-enforced';
  ok: boolean;
  durationMs: number;
  details: Record<string, unknown>;
  error?: { code: string; message: string };
}

export function passed(name: ProbeResult['name'], durationMs: number, details: Record<string, unknown>): ProbeResult {
  return { name, status: 'pass', ok: true, durationMs: Math.round(durationMs), details };
}

export function failed(name: ProbeResult['name'], durationMs: number, details: Record<string, unknown>, e: unknown, fallback: Parameters<typeof asNwError>[1] = 'NW_CEPH'): ProbeResult {
  const err = asNwError(e, fallback);
  return { name, status: 'fail', ok: false, durationMs: Math.round(durationMs), details, error: { code: err.code, message: err.message } };
}
