// R2's inputs: seeded mutations of one valid signed bundle, each a request body for
// POST /v1/desired. Pure (a PRNG and a signer are passed in). Every input differs from the
// accepted bundle in what the signature covers or in the signature itself, or is signed
// properly but must still be refused (stale generation, same generation with other content,
// schema errors behind a good signature, expired, bound elsewhere) — so the only right answer
// to each is a coded 4xx.

export type Rnd = () => number;

export function mulberry32(seed: number): Rnd {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Input {
  kind: string;
  body: string;
  contentType?: string;
  /** Send without the bearer token (or with a wrong one). */
  auth?: 'none' | 'wrong';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Signer {
  /** Sign any desired value (no schema check) the way the agent verifies. */
  sign(desired: Json): { kind: string; desired: Json; signature: { alg: string; keyId: string; value: string } };
  /** Sign with a key the agent does not pin. */
  signForeign(desired: Json): { kind: string; desired: Json; signature: { alg: string; keyId: string; value: string } };
}

const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\n[global]\nkey = injected',
  '127.0.0.1:3300\nmon host = 10.6.6.6',
  '../../../../etc/shadow',
  '/etc/../../proc/self/mem',
  '😀'.repeat(50),
  '\u202e\u202dRTL',
  '\ud800',
  '\udfff\ud800',
  'é'.normalize('NFD'),
  '%n%H%%',
  '$(reboot)',
  '`id`',
  '"; rm -rf / #',
  '\\x00\\u0000',
  'A'.repeat(5000),
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '1e309',
];
const WEIRD_NUMBERS = [0, -1, -0, 1.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, Number.MIN_VALUE, 4294967297];

function weirdValue(rnd: Rnd, depth = 0): Json {
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return pick(rnd, WEIRD_NUMBERS);
    case 3:
      return pick(rnd, WEIRD_STRINGS);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return depth < 3 ? [weirdValue(rnd, depth + 1), weirdValue(rnd, depth + 1)] : 'x';
    case 7:
      return depth < 3 ? { [pick(rnd, ['a', '__proto__', 'constructor', 'generation', 'kind'])]: weirdValue(rnd, depth + 1) } : 'y';
    default:
      return 'x'.repeat(1 + Math.floor(rnd() * 300));
  }
}

/** Every [parent, key] in a JSON tree (for picking a place to mutate). */
function places(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): [Json[] | Record<string, Json>, string | number][] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), places(x, out)));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([v, k]), places(v[k], out);
  return out;
}

/** Change the tree at one random place: delete, swap type, weird value, add a key, wrap. */
function mutateTree(rnd: Rnd, root: Json): void {
  const ps = places(root);
  if (!ps.length) return;
  const [parent, key] = pick(rnd, ps);
  const op = Math.floor(rnd() * 6);
  const p = parent as Record<string | number, Json>;
  if (op === 0) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete p[key];
  } else if (op === 1 || op === 2) p[key] = weirdValue(rnd);
  else if (op === 3) {
    const v = p[key];
    p[key] = typeof v === 'string' ? (rnd() < 0.5 ? Number(v.length) : [v]) : typeof v === 'number' ? String(v) : Array.isArray(v) ? (v[0] ?? null) : v && typeof v === 'object' ? [v] : { v };
  } else if (op === 4) {
    if (!Array.isArray(parent)) p[pick(rnd, ['extra', '__proto__', 'constructor', 'notAfter', 'nodes', 'prototype'])] = weirdValue(rnd);
    else parent.push(weirdValue(rnd));
  } else {
    const v = p[key];
    p[key] = typeof v === 'string' ? v + pick(rnd, WEIRD_STRINGS) : weirdValue(rnd);
  }
}

function flipBit(rnd: Rnd, b64: string): string {
  const buf = Buffer.from(b64, 'base64');
  const i = Math.floor(rnd() * buf.length);
  buf[i] ^= 1 << Math.floor(rnd() * 8);
  return buf.toString('base64');
}

function nested(depth: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

/**
 * The input generator. `accepted` is the signed bundle the agent holds (generation G); `signer`
 * re-signs mutated desired states. Kinds are chosen by weight; each kind keeps its own counter.
 */
export function makeInputs(accepted: { desired: Json & Record<string, Json>; signature: { value: string } } & Record<string, Json | object>, signer: Signer, nodeName: string) {
  const G = accepted.desired.generation as number;
  const json = (v: unknown) => JSON.stringify(v);
  const withDesired = (d: Json) => ({ ...clone(accepted), desired: d });

  const kinds: [string, number, (rnd: Rnd) => Input | null][] = [
    // 1. The signed part changed, signature left as it was.
    ['unsigned-mutation', 30, (rnd) => {
      const d = clone(accepted.desired) as Json;
      const n = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < n; i++) mutateTree(rnd, d);
      return { kind: 'unsigned-mutation', body: json(withDesired(d)) };
    }],
    // 2. The envelope changed (kind, signature fields, extra keys), or the signature's bits.
    ['signature', 14, (rnd) => {
      const b = clone(accepted) as Record<string, Json>;
      const sig = b.signature as Record<string, Json>;
      const op = Math.floor(rnd() * 7);
      if (op <= 2) sig.value = flipBit(rnd, accepted.signature.value);
      else if (op === 3) sig.value = pick(rnd, ['', '=', 'AAAA', '!!!!', accepted.signature.value.slice(1), accepted.signature.value + 'AA', 'A'.repeat(300)]);
      else if (op === 4) sig.alg = pick(rnd, ['ed448', 'none', '', 'ED25519', 'rsa']);
      else if (op === 5) delete b[pick(rnd, ['signature', 'kind', 'desired'])];
      else b[pick(rnd, ['kind', 'signature'])] = weirdValue(rnd);
      return { kind: 'signature', body: json(b) };
    }],
    // 3. Properly signed, but by a key the agent does not pin.
    ['foreign-key', 4, (rnd) => {
      const d = clone(accepted.desired) as Record<string, Json>;
      d.generation = G + 1 + Math.floor(rnd() * 1000);
      return { kind: 'foreign-key', body: json(signer.signForeign(d)) };
    }],
    // 4. Signed by the pinned key, but a schema error behind the signature.
    ['signed-invalid', 16, (rnd) => {
      const d = clone(accepted.desired) as Json;
      (d as Record<string, Json>).generation = G + 1 + Math.floor(rnd() * 1000);
      for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) mutateTree(rnd, d);
      return { kind: 'signed-invalid', body: json(signer.sign(d)) };
    }],
    // 5. Generation games, signed by the pinned key: stale, same generation with other content,
    //    not an integer, out of range; plus expiry and binding to another node or group.
    ['generation', 8, (rnd) => {
      const d = clone(accepted.desired) as Record<string, Json>;
      const op = Math.floor(rnd() * 8);
      if (op === 0) d.generation = Math.max(1, G - 1 - Math.floor(rnd() * (G - 1)));
      else if (op === 1) {
        d.generation = G;
        (d.ceph as Record<string, Json>).monHost = [`127.0.0.${2 + Math.floor(rnd() * 200)}:3300`];
      } else if (op === 2) d.generation = pick(rnd, [0, -1, -G, G + 0.5, 2 ** 53 + 2, 1e300, String(G + 1), null, [G + 1]] as Json[]);
      else if (op === 3) {
        d.generation = G + 1;
        d.notAfter = pick(rnd, ['2000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', new Date(Date.now() - 60_000).toISOString()]);
      } else if (op === 4) {
        d.generation = G + 1;
        d.nodes = [pick(rnd, ['some-other-node', nodeName + 'x', '', nodeName.toUpperCase() + '-2'])];
      } else if (op === 5) {
        d.generation = G + 1;
        d.nodeGroup = pick(rnd, ['other-group', 'Workers-B']);
        d.nodes = [];
      } else if (op === 6) {
        d.generation = G - 1 > 0 ? G - 1 : 0;
        d.notAfter = '2999-01-01T00:00:00Z';
      } else {
        d.generation = G;
        d.kubelet = { kind: 'image', version: 'v9', tag: 'v9' };
      }
      return { kind: 'generation', body: json(signer.sign(d)) };
    }],
    // 6. Not a bundle at all: garbage, truncation, other JSON types, deep nesting, huge bodies.
    ['body', 10, (rnd) => {
      const whole = json(accepted);
      const op = Math.floor(rnd() * 12);
      let body: string;
      let contentType: string | undefined;
      if (op === 0) body = whole.slice(0, Math.floor(rnd() * whole.length));
      else if (op === 1) body = pick(rnd, ['', 'null', '[]', '0', '"x"', 'true', '{}', '{"signature":null}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}']);
      else if (op === 2) body = nested(1000 + Math.floor(rnd() * 20000), '[', ']');
      else if (op === 3) body = nested(1000 + Math.floor(rnd() * 20000), '{"a":', '}');
      else if (op === 4) body = json({ ...accepted, pad: 'x'.repeat((1 << 20) + Math.floor(rnd() * 200_000)) });
      else if (op === 5) body = whole.replace(/"/g, pick(rnd, ["'", '', '\\"']));
      else if (op === 6) {
        body = whole;
        contentType = pick(rnd, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/octet-stream']);
      } else if (op === 7) body = whole + pick(rnd, ['}', ',', ' garbage', '\u0000', '{}']);
      else if (op === 8) body = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 512) }, () => Math.floor(rnd() * 256))).toString('latin1');
      else if (op === 9) body = whole.replace(/"generation":\d+/, `"generation":${pick(rnd, ['1e999', '-0', '0x10', '01', 'NaN', 'Infinity', '1' + '0'.repeat(400)])}`);
      else if (op === 10) body = `{"kind":"nodewright.bundle/v1","desired":${json(accepted.desired)},"signature":${json(accepted.signature)},"signature":{"alg":"ed25519","keyId":"x","value":"AAAA"}}`;
      else body = json([accepted, accepted]);
      return { kind: 'body', body, contentType };
    }],
    // 7. Without the token, or with a wrong one (a valid-looking bundle).
    ['auth', 2, (rnd) => {
      const d = clone(accepted.desired) as Record<string, Json>;
      d.generation = G + 1;
      return { kind: 'auth', body: json(signer.sign(d)), auth: rnd() < 0.5 ? 'none' : 'wrong' };
    }],
  ];
  const total = kinds.reduce((a, k) => a + k[1], 0);
  return (rnd: Rnd): Input => {
    for (;;) {
      let x = rnd() * total;
      for (const [, w, make] of kinds) {
        if ((x -= w) < 0) {
          const input = make(rnd);
          if (input) return input;
          break;
        }
      }
    }
  };
}
