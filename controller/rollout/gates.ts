// Rollout gates: checks of the cluster (not of one node) that must pass before a wave starts and
// while it runs. Plain data stored in the strategy; the controller's gates/ room runs the checks
// and hands the engine their results (GateResult), like node observations.
import { Type } from '@sinclair/typebox';
import { NwError } from '../../host/errors.js';
import { parseCondition } from './condition.js';

export interface CephHealthGate {
  cephHealth: {
    /** Overall statuses that pass (default [HEALTH_OK]). */
    allow: string[];
    /** Health checks that never hold the gate (e.g. OSDMAP_FLAGS); the status is judged without them. */
    ignore: string[];
    /** Hold while any PG is not active+clean. */
    cleanPgs: boolean;
  };
}

export interface PrometheusTls {
  /** CA bundle (PEM) that signs Prometheus' certificate. */
  caFile?: string;
  /** Client certificate and key (PEM) for mutual TLS. */
  certFile?: string;
  keyFile?: string;
  /** Name to check the certificate against (default: the URL's host). */
  serverName?: string;
}

export interface PrometheusGate {
  prometheus: {
    url: string;
    tls?: PrometheusTls;
    /** File holding the bearer token (never the token itself). */
    bearerTokenFile?: string;
    /** kured's model: a regexp on alert names; a matching alert holds the gate. */
    alerts?: string;
    /** Only firing alerts hold (default true); false: pending ones too. */
    firingOnly?: boolean;
    /** Only alerts with these labels (exact values) count. */
    labels?: Record<string, string>;
    /** Argo's model: an instant-vector PromQL query ... */
    query?: string;
    /** ... and the condition its result must meet, e.g. "result == 0". */
    pass?: string;
  };
}

export type GateSpec = CephHealthGate | PrometheusGate;
export type GateFailure = 'wait' | 'pause';

/** One gate's latest evaluation, as the engine sees it. */
export interface GateResult {
  /** Index into strategy.gates. */
  index: number;
  /** The gate in words (gateName). */
  gate: string;
  pass: boolean;
  /** The failing check or alert, or what passed. */
  message: string;
}

const usage = (msg: string): NwError => new NwError('NW_USAGE', msg);
const HEALTH = ['HEALTH_OK', 'HEALTH_WARN', 'HEALTH_ERR'];

export const GateSchema = Type.Union(
  [
    Type.Object(
      {
        cephHealth: Type.Object(
          {
            allow: Type.Optional(Type.Array(Type.Union(HEALTH.map((h) => Type.Literal(h))), { default: ['HEALTH_OK'], description: 'Overall statuses that pass.' })),
            ignore: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z0-9_]+$' }), { default: [], description: 'Health check codes that never hold the gate, e.g. OSDMAP_FLAGS.' })),
            cleanPgs: Type.Optional(Type.Boolean({ default: false, description: 'Also hold while any PG is not active+clean.' })),
          },
          { additionalProperties: false, description: 'Which statuses pass and which checks count.' },
        ),
      },
      {
        additionalProperties: false,
        description:
          'The Ceph cluster the desired state names (fsid, monHost), read by the controller with its monitor credential (controller.yaml ceph: {clientId, keyringFile}): `ceph status` and `ceph health detail`. Flag --gate-ceph-health.',
      },
    ),
    Type.Object(
      {
        prometheus: Type.Object(
          {
            url: Type.String({ pattern: '^https?://', description: 'Prometheus base URL.' }),
            tls: Type.Optional(
              Type.Object(
                {
                  caFile: Type.Optional(Type.String({ description: 'CA bundle (PEM) that signs Prometheus\' certificate.' })),
                  certFile: Type.Optional(Type.String({ description: 'Client certificate (PEM) for mutual TLS.' })),
                  keyFile: Type.Optional(Type.String({ description: 'Its private key (PEM).' })),
                  serverName: Type.Optional(Type.String({ description: 'Name the certificate must carry (default: the URL\'s host).' })),
                },
                { additionalProperties: false, description: 'Files on the controller: CA bundle, client certificate and key (mutual TLS), server name.' },
              ),
            ),
            bearerTokenFile: Type.Optional(Type.String({ description: 'A file on the controller holding the bearer token.' })),
            alerts: Type.Optional(Type.String({ description: 'Regexp on alert names (GET /api/v1/alerts): a matching alert holds the gate. Flag --gate-alerts.' })),
            firingOnly: Type.Optional(Type.Boolean({ default: true, description: 'Only firing alerts hold; false: pending ones too.' })),
            labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Only alerts carrying these labels (exact values) hold.' })),
            query: Type.Optional(Type.String({ description: 'Instant PromQL query (instead of alerts).' })),
            pass: Type.Optional(
              Type.String({ description: 'Condition over the query\'s result: `result OP NUMBER` (OP one of == != < <= > >=), joined by && or ||; `result` is each sample\'s value (all must meet it); an empty result passes only `len(result) == 0`-style conditions.' }),
            ),
          },
          { additionalProperties: false, description: 'Where Prometheus is and what it must say.' },
        ),
      },
      { additionalProperties: false, description: 'A Prometheus: alerts (kured\'s model) or a query with a pass condition (Argo\'s model). Errors and an unreachable Prometheus hold the gate. Flag --gate-prometheus URL.' },
    ),
  ],
  { description: 'A gate: exactly one of cephHealth or prometheus.' },
);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(where: string, o: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw usage(`${where}: key "${k}" is unknown; known keys: ${known.join(', ')}`);
}

const strings = (where: string, v: unknown): string[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw usage(`${where} must be a list of strings`);
  return v;
};
const optString = (where: string, v: unknown): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw usage(`${where} must be a non-empty string`);
  return v;
};

function parseCephHealth(where: string, v: unknown): CephHealthGate {
  const o = v ?? {};
  if (!isObject(o)) throw usage(`${where} must be a mapping like { allow: [HEALTH_OK], ignore: [OSDMAP_FLAGS], cleanPgs: false }`);
  onlyKeys(where, o, ['allow', 'ignore', 'cleanPgs']);
  const allow = o.allow === undefined ? ['HEALTH_OK'] : strings(`${where}.allow`, o.allow);
  for (const a of allow) if (!HEALTH.includes(a)) throw usage(`${where}.allow: "${a}" is not one of ${HEALTH.join(', ')}`);
  if (allow.length === 0) throw usage(`${where}.allow is empty: no status could pass; write e.g. [HEALTH_OK]`);
  const ignore = o.ignore === undefined ? [] : strings(`${where}.ignore`, o.ignore);
  for (const c of ignore) if (!/^[A-Z0-9_]+$/.test(c)) throw usage(`${where}.ignore: "${c}" is not a health check code like OSDMAP_FLAGS`);
  if (o.cleanPgs !== undefined && typeof o.cleanPgs !== 'boolean') throw usage(`${where}.cleanPgs must be true or false`);
  return { cephHealth: { allow, ignore, cleanPgs: o.cleanPgs === true } };
}

function parsePrometheus(where: string, v: unknown): PrometheusGate {
  if (!isObject(v)) throw usage(`${where} must be a mapping with url and either alerts or query + pass`);
  onlyKeys(where, v, ['url', 'tls', 'bearerTokenFile', 'alerts', 'firingOnly', 'labels', 'query', 'pass']);
  const url = optString(`${where}.url`, v.url);
  if (!url) throw usage(`${where}.url is missing: the Prometheus base URL, e.g. http://127.0.0.1:9090`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`${where}.url "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(`${where}.url must be http:// or https://`);
  if (parsed.username || parsed.password) throw usage(`${where}.url carries credentials: put the token in a file and name it in bearerTokenFile`);
  const p: PrometheusGate['prometheus'] = { url: url.replace(/\/+$/, '') };
  if (v.tls !== undefined) {
    if (!isObject(v.tls)) throw usage(`${where}.tls must be a mapping of caFile, certFile, keyFile, serverName`);
    onlyKeys(`${where}.tls`, v.tls, ['caFile', 'certFile', 'keyFile', 'serverName']);
    const tls: PrometheusTls = {};
    for (const k of ['caFile', 'certFile', 'keyFile', 'serverName'] as const) {
      const s = optString(`${where}.tls.${k}`, v.tls[k]);
      if (s !== undefined) tls[k] = s;
    }
    if (!!tls.certFile !== !!tls.keyFile) throw usage(`${where}.tls: certFile and keyFile go together`);
    p.tls = tls;
  }
  const token = optString(`${where}.bearerTokenFile`, v.bearerTokenFile);
  if (token) p.bearerTokenFile = token;
  const alerts = optString(`${where}.alerts`, v.alerts);
  const query = optString(`${where}.query`, v.query);
  if (!!alerts === !!query) throw usage(`${where}: give either alerts (a regexp on alert names) or query with pass, not ${alerts ? 'both' : 'neither'}`);
  if (alerts) {
    try {
      new RegExp(alerts);
    } catch (e) {
      throw usage(`${where}.alerts "${alerts}" is not a regular expression: ${(e as Error).message}`);
    }
    p.alerts = alerts;
    if (v.firingOnly !== undefined && typeof v.firingOnly !== 'boolean') throw usage(`${where}.firingOnly must be true or false`);
    p.firingOnly = v.firingOnly !== false;
    if (v.labels !== undefined) {
      if (!isObject(v.labels) || !Object.values(v.labels).every((x) => typeof x === 'string')) throw usage(`${where}.labels must be a mapping of label names to values`);
      p.labels = v.labels as Record<string, string>;
    }
    if (v.pass !== undefined || v.query !== undefined) throw usage(`${where}: pass goes with query, not with alerts`);
  } else {
    p.query = query;
    const pass = optString(`${where}.pass`, v.pass);
    if (!pass) throw usage(`${where}.pass is missing: the condition the query's result must meet, e.g. "result == 0"`);
    parseCondition(pass, `${where}.pass`);
    p.pass = pass;
    if (v.firingOnly !== undefined || v.labels !== undefined) throw usage(`${where}: firingOnly and labels go with alerts, not with query`);
  }
  return { prometheus: p };
}

/** `gates:` of a strategy: a list of { cephHealth: … } or { prometheus: … }; NW_USAGE naming the entry. */
export function parseGates(v: unknown): GateSpec[] {
  if (!Array.isArray(v)) throw usage('gates must be a list like [{ cephHealth: {} }, { prometheus: { url: …, alerts: "^Ceph" } }]');
  return v.map((g, i) => {
    const where = `gates[${i}]`;
    if (!isObject(g) || Object.keys(g).length !== 1) throw usage(`${where} must have exactly one key: cephHealth or prometheus`);
    if ('cephHealth' in g) return parseCephHealth(`${where}.cephHealth`, g.cephHealth);
    if ('prometheus' in g) return parsePrometheus(`${where}.prometheus`, g.prometheus);
    throw usage(`${where}: "${Object.keys(g)[0]}" is not a gate; use cephHealth or prometheus`);
  });
}

/** A gate in words, for reasons, status and metrics labels: "cephHealth", "prometheus alerts ^Ceph". */
export function gateName(g: GateSpec): string {
  if ('cephHealth' in g) return 'cephHealth';
  const p = g.prometheus;
  return p.alerts !== undefined ? `prometheus alerts ${p.alerts}` : `prometheus query ${p.query}`;
}

export const isCephHealthGate = (g: GateSpec): g is CephHealthGate => 'cephHealth' in g;
