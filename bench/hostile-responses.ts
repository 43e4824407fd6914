// What a hostile agent answers (bench R3), as plain data: pure, so every kind is unit-tested
// without sockets. bench/sim-hostile.ts puts these on the wire. The kinds are the ones issue 16
// found or names: generated shapes (fast-check JSON, random mutations of a real status), `steps:
// null`, wrong types, huge arrays, endless and trickling bodies, a reset mid-body, generations the
// controller never signed, terminal escapes and control characters in text, garbage that is not
// JSON. (The old-certificate agent is a TLS matter: sim-hostile.ts.)
import fc from 'fast-check';
import { sampleStatus } from './sim-agents.js';

export const HOSTILE_KINDS = [
  'generated',
  'mutated',
  'steps-null',
  'wrong-types',
  'huge-array',
  'endless',
  'trickle',
  'reset',
  'unsigned-generation',
  'escapes',
  'garbage',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export type HostileAnswer =
  | { kind: HostileKind; type: 'body'; status: number; body: string }
  /** 200, then `chunk` again and again until the client goes away. */
  | { kind: HostileKind; type: 'endless'; status: number; chunk: string }
  /** 200 with the full length declared, then `bytesPerTick` of `body` every `tickMs`. */
  | { kind: HostileKind; type: 'trickle'; status: number; body: string; bytesPerTick: number; tickMs: number }
  /** content-length `declared`, `prefix` written, then the TCP connection reset. */
  | { kind: HostileKind; type: 'reset'; status: number; declared: number; prefix: string };

/** Numbers a hostile agent reports as its generation, around and far from what was signed for it. */
export function unsignedGenerations(signed: number | null): unknown[] {
  const s = signed ?? 7;
  return [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 63, 1e308, s + 1, s + 1000, s - 1, 0, -1, 1.5, Number.MIN_VALUE, '7', null, [s], { generation: s }];
}

/** Terminal escapes and control characters: clear screen, window title (OSC), BEL, NUL, CR, bidi override, a fake prompt. */
export const ESCAPES = ['\x1b[2J\x1b[H', '\x1b]0;owned\x07', '\x07', '\x00', '\r\x1b[Knodewright$ ', '\u202e', '\x1b[31mFAKE healthy\x1b[0m', '\x9b6n', '\x1b]8;;https://example.invalid\x1b\\link\x1b]8;;\x1b\\'];

const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length) % xs.length];

/** One fast-check value of `arb`, reproducible from rnd. */
function sample<T>(arb: fc.Arbitrary<T>, rnd: () => number): T {
  return fc.sample(arb, { numRuns: 1, seed: Math.floor(rnd() * 2 ** 31) })[0];
}

/** Every path (key list) into a JSON value. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** A real status with the value at one random path replaced (the root replaced means any JSON at all). */
export function mutateStatus(status: unknown, rnd: () => number, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(status)) as Record<string, unknown>;
  const at = pick(paths(copy).filter((p) => p.length > 0), rnd);
  let o: any = copy;
  for (const k of at.slice(0, -1)) o = o[k];
  o[at.at(-1)!] = value;
  return copy;
}

const WRONG: unknown[] = [null, '', 'x', 0, -1, 1e308, true, [], {}, [null], { steps: null }];

/** A status whose top-level fields all hold values of the wrong type. */
export function wrongTypes(node: string, rnd: () => number): Record<string, unknown> {
  const s = sampleStatus(node) as unknown as Record<string, unknown>;
  for (const k of Object.keys(s)) if (k !== 'steps' || rnd() < 0.5) s[k] = pick(WRONG, rnd);
  return s;
}

export function hostileAnswer(kind: HostileKind, node: string, rnd: () => number, signedGeneration: number | null): HostileAnswer {
  const status = sampleStatus(node);
  const json = (v: unknown, code = 200): HostileAnswer => ({ kind, type: 'body', status: code, body: JSON.stringify(v) });
  switch (kind) {
    case 'generated':
      return json(sample(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('steps', 'desired', 'probes', 'converged', 'ready', 'lastReconcile', 'lastError'), fc.jsonValue())), rnd));
    case 'mutated':
      return json(mutateStatus(status, rnd, sample(fc.jsonValue({ maxDepth: 3 }), rnd)));
    case 'steps-null':
      // not ready: the controller then looks into steps for the reason (issue 16's crash loop)
      return json({ ...status, steps: null, converged: rnd() < 0.5, ready: false });
    case 'wrong-types':
      return json(wrongTypes(node, rnd));
    case 'huge-array': {
      // ~2 MiB: 40,000 steps, or 40,000 probes, or an address list
      const many = Array.from({ length: 40_000 }, (_, i) => ({ name: 'probes', state: 'failed', message: `m${i}`, durationMs: i, at: 'x' }));
      const which = Math.floor(rnd() * 3);
      return json(which === 0 ? { ...status, steps: many } : which === 1 ? { ...status, probes: many } : { ...status, facts: { ...status.facts, addresses: many.map((m) => m.message) } });
    }
    case 'endless':
      return { kind, type: 'endless', status: 200, chunk: `{"steps":[${'{"name":"probes","state":"failed","message":"aaaaaaaaaaaaaaaa"},'.repeat(1024)}` };
    case 'trickle':
      // a real status at 48 bytes every 100 ms (~2.5 s): never idle long enough for an idle timeout
      return { kind, type: 'trickle', status: 200, body: JSON.stringify(status), bytesPerTick: 48, tickMs: 100 };
    case 'reset': {
      const body = JSON.stringify(status);
      return { kind, type: 'reset', status: 200, declared: body.length, prefix: body.slice(0, Math.floor(body.length * (0.1 + 0.8 * rnd()))) };
    }
    case 'unsigned-generation': {
      const g = pick(unsignedGenerations(signedGeneration), rnd);
      return json({ ...status, desired: { ...status.desired, generation: g }, lastReconcile: { ...status.lastReconcile, generation: g }, converged: true, ready: true });
    }
    case 'escapes': {
      const text = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick(ESCAPES, rnd)).join('x');
      const long = rnd() < 0.2 ? text.repeat(Math.ceil((1 << 20) / text.length)) : text; // sometimes 1 MiB of it
      return json({
        ...status,
        converged: false,
        ready: false,
        facts: { ...status.facts, hostname: `${node}${text}` },
        lastError: { code: `NW_${text}`, message: long, at: status.lastReconcile!.at },
        steps: status.steps.map((st) => ({ ...st, state: 'failed', message: long, error: { code: 'NW_X', message: text } })),
      });
    }
    case 'garbage':
      return pick<HostileAnswer>(
        [
          { kind, type: 'body', status: 200, body: '<html>not json</html>' },
          { kind, type: 'body', status: 200, body: '{"steps": [' },
          { kind, type: 'body', status: 500, body: JSON.stringify({ code: `NW_${pick(ESCAPES, rnd)}`, message: 'x'.repeat(1 << 20) }) },
          { kind, type: 'body', status: 503, body: JSON.stringify({ code: 'NW_AGENT', message: pick(ESCAPES, rnd) }) },
          { kind, type: 'body', status: 204, body: '' },
          { kind, type: 'body', status: 200, body: 'null' },
          { kind, type: 'body', status: 200, body: '"steps"' },
        ],
        rnd,
      );
  }
}
