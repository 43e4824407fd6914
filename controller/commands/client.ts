// The operator's side of the controller API: operator.yaml (controller URL, CA, client cert) and
// one TLS request helper. Found via --operator-config, else $NODEWRIGHT_OPERATOR_CONFIG, else
// ~/.config/nodewright/operator.yaml. Coded errors from the controller come back as NwError. The
// server must present a certificate of the fleet CA with the controller role (NW_TLS otherwise).
import { createReadStream, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NwError, isNwError, type ErrorCode } from '../../host/errors.js';
import { readJson } from '../../host/http-json.js';
import { checkControllerIdentity } from '../../pki/identity.js';

export interface OperatorConfig {
  file: string;
  controller: string;
  ca: string;
  cert: string;
  key: string;
}

export function operatorConfigPath(flag: string | undefined, env = process.env): string {
  return flag ?? env.NODEWRIGHT_OPERATOR_CONFIG ?? path.join(os.homedir(), '.config/nodewright/operator.yaml');
}

export function parseOperatorConfig(text: string, file: string): OperatorConfig {
  let raw: Record<string, unknown>;
  try {
    raw = (parseYaml(text) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new NwError('NW_CONFIG', `${file}: YAML syntax error: ${(e as Error).message.split('\n')[0]}`);
  }
  const dir = path.dirname(path.resolve(file));
  const str = (k: string) => {
    const v = raw[k];
    if (typeof v !== 'string' || !v) throw new NwError('NW_CONFIG', `${file}: \`${k}\` is missing: operator.yaml needs controller, ca, cert and key (written by \`nodewright init\`)`);
    return v;
  };
  const controller = str('controller');
  if (!/^https:\/\//.test(controller)) throw new NwError('NW_CONFIG', `${file}: controller must be an https:// URL, got '${controller}'`);
  return { file, controller, ca: path.resolve(dir, str('ca')), cert: path.resolve(dir, str('cert')), key: path.resolve(dir, str('key')) };
}

export function loadOperatorConfig(flag?: string): OperatorConfig {
  const file = operatorConfigPath(flag);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_CONFIG', `cannot read the operator config ${file} (${(e as NodeJS.ErrnoException).code}): pass --operator-config FILE (D/operator.yaml from \`nodewright init --dir D\`) or set NODEWRIGHT_OPERATOR_CONFIG`);
  }
  return parseOperatorConfig(text, file);
}

const readPem = (file: string, what: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new NwError('NW_TLS', `cannot read the operator ${what} ${file} (${(e as NodeJS.ErrnoException).code}): fix the path in operator.yaml`);
  }
};

const fileSize = (file: string): number => {
  try {
    return statSync(file).size;
  } catch (e) {
    throw new NwError('NW_USAGE', `cannot read ${file} (${(e as NodeJS.ErrnoException).code}): give the path of the file to upload`);
  }
};

export interface ControllerClient {
  request<T = unknown>(method: string, p: string, body?: unknown): Promise<T>;
  /** POST a file as application/octet-stream, streamed from disk. */
  upload<T = unknown>(p: string, file: string): Promise<T>;
  /** A streaming GET (events --follow); resolves when the response ends. */
  stream(p: string, onChunk: (s: string) => void): Promise<void>;
  close(): void;
}

export function controllerClient(cfg: OperatorConfig, timeoutMs = 30_000): ControllerClient {
  // the fleet CA and the host name are not enough: a worker's certificate chains to the same CA
  const agent = new https.Agent({ ca: readPem(cfg.ca, 'CA'), cert: readPem(cfg.cert, 'certificate'), key: readPem(cfg.key, 'key'), keepAlive: true, checkServerIdentity: checkControllerIdentity });
  const base = new URL(cfg.controller);
  const open = (method: string, p: string, data: string | { file: string } | undefined, timeout: number, onRes: (res: import('node:http').IncomingMessage) => void, reject: (e: Error) => void) => {
    const headers: Record<string, string> =
      data === undefined ? {} : typeof data === 'string' ? { 'content-type': 'application/json' } : { 'content-type': 'application/octet-stream', 'content-length': String(fileSize(data.file)) };
    const req = https.request(new URL(p, base), { method, agent, timeout, headers }, onRes);
    req.on('error', (e) => reject(isNwError(e) ? e : new NwError('NW_PUSH', `cannot reach the controller at ${cfg.controller}: ${e.message}; is \`nodewright controller run\` up, and is ${cfg.file} right?`)));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
    if (typeof data === 'object') {
      const src = createReadStream(data.file);
      src.on('error', (e) => req.destroy(new NwError('NW_USAGE', `cannot read ${data.file} (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
      src.pipe(req);
    } else req.end(data);
  };
  const call = <T>(method: string, p: string, data: string | { file: string } | undefined) =>
    new Promise<T>((resolve, reject) => {
      open(method, p, data, timeoutMs, (res) => {
        readJson(res).then(({ status, json, text }) => {
          if (text.trim() && text.trim() !== 'null' && json === null) return reject(new NwError('NW_INTERNAL', `the controller answered ${status} with non-JSON: ${text.slice(0, 200)}`));
          if (status >= 400) {
            const code = (typeof json?.code === 'string' && /^NW_[A-Z_]+$/.test(json.code) ? json.code : 'NW_INTERNAL') as ErrorCode;
            return reject(new NwError(code, json?.message ?? `HTTP ${status}`));
          }
          resolve(json as T);
        }, reject);
      }, reject);
    });
  return {
    request: <T>(method: string, p: string, body?: unknown) => call<T>(method, p, body === undefined ? undefined : JSON.stringify(body)),
    upload: <T>(p: string, file: string) => call<T>('POST', p, { file }),
    stream: (p, onChunk) =>
      new Promise<void>((resolve, reject) => {
        open('GET', p, undefined, 0, (res) => {
          res.setEncoding('utf8');
          res.on('data', onChunk);
          res.on('end', resolve);
          res.on('error', reject);
        }, reject);
      }),
    close: () => agent.destroy(),
  };
}
