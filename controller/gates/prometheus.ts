// The prometheus gate: alerts (kured's model: GET /api/v1/alerts, a regexp on alert names, firing
// only or pending too, label matchers) or an instant query with a pass condition (Argo's model).
// An unreachable Prometheus, an HTTP error or a query error holds the gate: it never counts as a
// pass. TLS options and the bearer token come from files on the controller; each call has a deadline
// and a bounded body. filterAlerts and judgeQuery are the pure halves.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { meets, parseCondition } from '../rollout/condition.js';
import type { PrometheusGate } from '../rollout/gates.js';
import type { GateVerdict } from './verdict.js';

type Spec = PrometheusGate['prometheus'];
const MAX_BODY = 8 * 1024 * 1024;

export interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

/** The alerts that hold the gate. */
export function filterAlerts(spec: Spec, alerts: PromAlert[]): PromAlert[] {
  const name = new RegExp(spec.alerts ?? '');
  return alerts.filter(
    (a) =>
      name.test(a.labels?.alertname ?? '') &&
      (a.state === 'firing' || (spec.firingOnly === false && a.state === 'pending')) &&
      Object.entries(spec.labels ?? {}).every(([k, v]) => a.labels?.[k] === v),
  );
}

export function judgeAlerts(spec: Spec, alerts: PromAlert[]): GateVerdict {
  const holding = filterAlerts(spec, alerts);
  if (holding.length === 0) return { pass: true, message: `no ${spec.firingOnly === false ? 'firing or pending' : 'firing'} alert matches ${spec.alerts}` };
  const names = holding.slice(0, 5).map((a) => `${a.labels.alertname} ${a.state}${a.labels.instance ? ` on ${a.labels.instance}` : ''}`);
  return { pass: false, message: `alert ${names.join(', ')}${holding.length > 5 ? ` and ${holding.length - 5} more` : ''}` };
}

interface QueryData {
  resultType: string;
  result: unknown;
}

/** The query's sample values judged by the pass condition. */
export function judgeQuery(spec: Spec, data: QueryData): GateVerdict {
  let values: number[];
  if (data.resultType === 'vector') values = (data.result as { value: [number, string] }[]).map((s) => Number(s.value[1]));
  else if (data.resultType === 'scalar') values = [Number((data.result as [number, string])[1])];
  else return { pass: false, message: `query returned a ${data.resultType}, not an instant vector or scalar` };
  const ok = meets(parseCondition(spec.pass!), values);
  const shown = values.length === 0 ? 'no samples' : `result ${values.slice(0, 5).join(', ')}${values.length > 5 ? ` and ${values.length - 5} more` : ''}`;
  return { pass: ok, message: `${shown}${ok ? ' meets' : ' does not meet'} ${spec.pass}` };
}

class Unreachable extends Error {}

async function getJson(spec: Spec, pathAndQuery: string, timeoutMs: number): Promise<unknown> {
  const url = new URL(spec.url + pathAndQuery);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (spec.bearerTokenFile) headers.authorization = `Bearer ${(await readFile(spec.bearerTokenFile, 'utf8')).trim()}`;
  const tls = spec.tls ?? {};
  const [ca, cert, key] = await Promise.all([tls.caFile, tls.certFile, tls.keyFile].map((f) => (f ? readFile(f) : Promise.resolve(undefined))));
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers, timeout: timeoutMs, agent: false, ...(url.protocol === 'https:' ? { ca, cert, key, servername: tls.serverName } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: { status?: string; error?: string; data?: unknown } | null = null;
        try {
          body = JSON.parse(text);
        } catch {
          body = null;
        }
        if (res.statusCode !== 200 || body?.status !== 'success') {
          reject(new Error(body?.error ? `prometheus answered ${res.statusCode}: ${body.error}` : `prometheus answered ${res.statusCode}: ${text.slice(0, 200)}`));
        } else resolve(body.data);
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Unreachable(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Unreachable(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof Unreachable || e.code ? new Unreachable(e.code ?? e.message) : e));
    req.on('close', () => clearTimeout(timer));
  });
}

export async function checkPrometheus(spec: Spec, timeoutMs: number): Promise<GateVerdict> {
  try {
    if (spec.alerts !== undefined) {
      const data = (await getJson(spec, '/api/v1/alerts', timeoutMs)) as { alerts?: PromAlert[] };
      return judgeAlerts(spec, data.alerts ?? []);
    }
    const data = (await getJson(spec, `/api/v1/query?query=${encodeURIComponent(spec.query!)}`, timeoutMs)) as QueryData;
    return judgeQuery(spec, data);
  } catch (e) {
    if (e instanceof Unreachable) return { pass: false, message: `prometheus unreachable (${spec.url}: ${e.message})` };
    return { pass: false, message: `prometheus ${spec.alerts !== undefined ? 'alerts' : 'query'} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}
