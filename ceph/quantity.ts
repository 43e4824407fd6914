// Kubernetes storage quantities ("100Mi", "1G", "500000000") as bytes, for quotas.
import { NwError } from '../host/errors.js';

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

export function parseQuantity(q: string): number {
  const m = /^(\d+)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m) throw new NwError('NW_USAGE', `size ${JSON.stringify(q)} is not a Kubernetes quantity; write e.g. 100Mi, 1Gi or 500M`);
  const bytes = Number(m[1]) * SUFFIX[m[2] ?? ''];
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new NwError('NW_USAGE', `size ${q} is out of range; give a positive size such as 100Mi`);
  return bytes;
}
