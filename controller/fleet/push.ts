// POST /v1/desired to one enrolled node over the controller's mutual-TLS agent, checking the
// node's certificate like the poller does. 2xx → ok; a coded refusal is thrown as NwError (the
// executor decides which codes are definite); anything else is an outcome in doubt.
import https from 'node:https';
import { NwError, type ErrorCode } from '../../host/errors.js';
import type { NodeRecord } from '../store/store.js';
import { nodeTls } from './agent-tls.js';

/** `onSent`: the request has been handed to the network (its answer may take a whole reconcile). */
export function pushDesired(agent: https.Agent, node: NodeRecord, bundle: unknown, timeoutMs: number, onSent?: () => void): Promise<{ ok: true }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(bundle);
    const req = https.request(
      new URL('/v1/desired', node.url),
      { method: 'POST', agent, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, ...nodeTls(node.name) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve({ ok: true });
          let body: { code?: string; message?: string } = {};
          try {
            body = JSON.parse(text);
          } catch {}
          const code = (typeof body.code === 'string' && /^NW_[A-Z_]+$/.test(body.code) ? body.code : 'NW_PUSH') as ErrorCode;
          reject(new NwError(code, `${node.name} answered ${status}: ${body.message ?? text.slice(0, 200)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${node.name} within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (onSent) req.once('finish', onSent).once('close', onSent);
    req.end(data);
  });
}
