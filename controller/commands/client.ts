// The operator's side of the controller API: operator.yaml (controller URL or URLs, CA, client cert)
// and one TLS request helper. Found via --operator-config, else $NODEWRIGHT_OPERATOR_CONFIG, else
// ~/.config/nodewright/operator.yaml. Coded errors from the controller come back as NwError. The
// server must present a certificate of the fleet CA with the controller role (NW_TLS otherwise).
// With several controllers (HA) the first that answers is used (controller-choice.ts), and a
// follower's 307 to the leader is followed (host/redirect.ts) under the same TLS checks.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { NwError, isNwError, type ErrorCode } from '../../host/errors.js';
import { readJson } from '../../host/http-json.js';
import { redirectTarget } from '../../host/redirect.js';
import { checkControllerIdentity } from '../../pki/identity.js';
import { isUnanswered, notAnswered, tryInOrder } from './controller-choice.js';

export interface OperatorConfig {
  file: string;
  /** One URL, or the members of an HA fleet in the order to try them. */
  controllers: string[];
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
  const listed = Array.isArray(raw.controller) ? (raw.controller as unknown[]) : [str('controller')];
  if (!listed.length) throw new NwError('NW_CONFIG', `${file}: controller is an empty list: give one https:// URL or a list of them`);
  const controllers = listed.map((c) => {
    if (typeof c !== 'string' || !/^https:\/\/[^\s]+$/.test(c)) throw new NwError('NW_CONFIG', `${file}: controller must be an https:// URL or a list of them, got '${String(c)}'`);
    return c;
  });
  return { file, controllers, ca: path.resolve(dir, str('ca')), cert: path.resolve(dir, str('cert')), key: path.resolve(dir, str('key')) };
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
  /** POST a file as application/octet-stream, streamed from disk (again from disk when redirected). */
  upload<T = unknown>(p: string, file: string): Promise<T>;
  /** A streaming GET (events --follow); resolves when the response ends. */
  stream(p: string, onChunk: (s: string) => void): Promise<void>;
  /** The origin (`https://HOST:PORT`) of the controller that gave the last answer (after redirects); null before one. */
  reached(): string | null;
  close(): void;
}

const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

type Body = string | { file: string } | undefined;

export interface ClientTimeouts {
  /** A whole answer (0: none, for streams). */
  timeoutMs?: number;
  /** TCP + TLS connect to one controller before the next is tried. */
  connectTimeoutMs?: number;
}

export function controllerClient(cfg: OperatorConfig, timeouts: number | ClientTimeouts = {}): ControllerClient {
  const t = typeof timeouts === 'number' ? { timeoutMs: timeouts } : timeouts;
  const timeoutMs = t.timeoutMs ?? 30_000;
  const connectTimeoutMs = t.connectTimeoutMs ?? 5_000;
  // the fleet CA and the host name are not enough: a worker's certificate chains to the same CA
  const agent = new https.Agent({ ca: readPem(cfg.ca, 'CA'), cert: readPem(cfg.cert, 'certificate'), key: readPem(cfg.key, 'key'), keepAlive: true, checkServerIdentity: checkControllerIdentity });
  const bases = cfg.controllers.map((c) => new URL(c));
  let answered: URL | null = null; // the controller that answered last: tried first next time
  let reached: string | null = null; // …and where the last answer came from (the leader, after a redirect)

  /** One request to one URL: resolves with the response head, or rejects (isUnanswered when nothing reached a server). */
  const attempt = (method: string, url: URL, data: Body, timeout: number) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> =
        data === undefined ? {} : typeof data === 'string' ? { 'content-type': 'application/json' } : { 'content-type': 'application/octet-stream', 'content-length': String(fileSize(data.file)) };
      let connected = false;
      const req: ClientRequest = https.request(url, { method, agent, timeout, headers }, resolve);
      let connectTimer: NodeJS.Timeout | undefined;
      req.on('socket', (socket) => {
        if (req.reusedSocket) return void (connected = true);
        connectTimer = setTimeout(() => req.destroy(notAnswered(`no TLS connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
        socket.once('secureConnect', () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      });
      req.on('close', () => clearTimeout(connectTimer));
      req.on('error', (e) => {
        if (isNwError(e) || isUnanswered(e)) return reject(e);
        // refused, unreachable, reset before TLS: nothing was delivered; a GET may always go elsewhere
        const code = (e as NodeJS.ErrnoException).code ?? '';
        if (NETWORK_ERRORS.has(code) && (!connected || method === 'GET')) return reject(notAnswered(e.message));
        if (/CERT|SSL|TLS|UNABLE_TO_VERIFY|SIGNATURE/.test(code)) return reject(new NwError('NW_TLS', `the server at ${url.origin} has no certificate of the fleet CA in ${cfg.ca} (${e.message}): refusing to talk to it; check the URL in ${cfg.file} and where it really leads`));
        reject(new NwError('NW_PUSH', `the controller at ${url.origin} failed: ${e.message}; is \`nodewright controller run\` up, and is ${cfg.file} right?`));
      });
      req.on('timeout', () => req.destroy(method === 'GET' || !connected ? notAnswered(`no answer within ${timeout} ms`) : new Error(`no answer within ${timeout} ms`)));
      if (typeof data === 'object') {
        const src = createReadStream(data.file);
        src.on('error', (e) => req.destroy(new NwError('NW_USAGE', `cannot read ${data.file} (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
        src.pipe(req);
      } else req.end(data);
    });

  /** The first controller that answers, then up to MAX_REDIRECTS redirects to the leader (same method and body). */
  const open = async (method: string, p: string, data: Body, timeout: number): Promise<IncomingMessage> => {
    const order = answered ? [answered, ...bases.filter((b) => b !== answered)] : bases;
    let { value: res, base } = await tryInOrder(order, (b) => attempt(method, new URL(p, b), data, timeout), cfg.file);
    answered = base;
    let at = new URL(p, base);
    for (let hops = 0; ; hops++) {
      const next = redirectTarget(at, res.statusCode ?? 0, res.headers.location, hops);
      if (!next) {
        reached = at.origin;
        return res;
      }
      res.resume();
      at = next;
      res = await attempt(method, at, data, timeout).catch((e) => {
        throw isNwError(e) ? e : new NwError('NW_PUSH', `the leader at ${at.origin} (named by a follower's redirect) does not answer: ${(e as Error).message}; check \`nodewright controller status\``);
      });
    }
  };

  const call = async <T>(method: string, p: string, data: Body): Promise<T> => {
    const { status, json, text } = await readJson(await open(method, p, data, timeoutMs));
    if (text.trim() && text.trim() !== 'null' && json === null) throw new NwError('NW_INTERNAL', `the controller answered ${status} with non-JSON: ${text.slice(0, 200)}`);
    if (status >= 400) {
      const code = (typeof json?.code === 'string' && /^NW_[A-Z_]+$/.test(json.code) ? json.code : 'NW_INTERNAL') as ErrorCode;
      throw new NwError(code, json?.message ?? `HTTP ${status}`);
    }
    return json as T;
  };
  return {
    request: <T>(method: string, p: string, body?: unknown) => call<T>(method, p, body === undefined ? undefined : JSON.stringify(body)),
    upload: <T>(p: string, file: string) => call<T>('POST', p, { file }),
    stream: async (p, onChunk) => {
      const res = await open('GET', p, undefined, 0);
      await new Promise<void>((resolve, reject) => {
        res.setEncoding('utf8');
        res.on('data', onChunk);
        res.on('end', resolve);
        res.on('error', reject);
      });
    },
    reached: () => reached,
    close: () => agent.destroy(),
  };
}
