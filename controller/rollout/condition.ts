// The pass condition of a Prometheus query gate (Argo's `successCondition`, without eval): a tiny
// grammar over the query's instant vector, parsed once and judged as plain data.
//   condition := and ('||' and)*        and := term ('&&' term)*
//   term      := operand OP number | '(' condition ')'
//   operand   := result | len(result)   OP := == != < <= > >=
// `result OP n` holds when every sample's value meets it; an empty vector reads as one value 0 (the
// `or vector(0)` idiom: `sum(up == 0)` is empty when nothing is down). `len(result)` is the sample count.
import { NwError } from '../../host/errors.js';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type Condition =
  | { kind: 'compare'; operand: 'result' | 'len'; op: CompareOp; value: number }
  | { kind: 'and' | 'or'; left: Condition; right: Condition };

const TOKEN = /\s*(len\s*\(\s*result\s*\)|result|&&|\|\||==|!=|<=|>=|<|>|\(|\)|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)/y;

export function parseCondition(text: string, where = 'pass'): Condition {
  const bad = (why: string): never => {
    throw new NwError('NW_USAGE', `${where} "${text}": ${why}; write e.g. "result == 0" or "result < 5 && len(result) > 0"`);
  };
  if (text.length > 512) bad('longer than 512 characters');
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) bad(`unexpected "${text.slice(at).trim().slice(0, 20)}"`);
    tokens.push(m![1].replace(/\s+/g, ''));
    at = TOKEN.lastIndex;
  }
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const OPS: CompareOp[] = ['==', '!=', '<', '<=', '>', '>='];
  const term = (): Condition => {
    const t = next();
    if (t === '(') {
      const c = or();
      if (next() !== ')') bad('a "(" is not closed');
      return c;
    }
    if (t !== 'result' && t !== 'len(result)') bad(t === undefined ? 'it ends too early' : `"${t}" where result or len(result) belongs`);
    const op = next() as CompareOp;
    if (!OPS.includes(op)) bad(`"${op ?? 'the end'}" where a comparison (== != < <= > >=) belongs`);
    const n = next();
    if (n === undefined || !/^[-+.\d]/.test(n) || !Number.isFinite(Number(n))) bad(`"${n ?? 'the end'}" where a number belongs`);
    return { kind: 'compare', operand: t === 'result' ? 'result' : 'len', op, value: Number(n) };
  };
  const and = (): Condition => {
    let c = term();
    while (peek() === '&&') {
      next();
      c = { kind: 'and', left: c, right: term() };
    }
    return c;
  };
  const or = (): Condition => {
    let c = and();
    while (peek() === '||') {
      next();
      c = { kind: 'or', left: c, right: and() };
    }
    return c;
  };
  if (tokens.length === 0) bad('it is empty');
  const c = or();
  if (i < tokens.length) bad(`"${tokens[i]}" is left over`);
  return c;
}

const compare = (a: number, op: CompareOp, b: number): boolean =>
  op === '==' ? a === b : op === '!=' ? a !== b : op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;

/** Whether the sample values meet the condition (NaN never meets a comparison). */
export function meets(c: Condition, values: number[]): boolean {
  switch (c.kind) {
    case 'and':
      return meets(c.left, values) && meets(c.right, values);
    case 'or':
      return meets(c.left, values) || meets(c.right, values);
    case 'compare':
      if (c.operand === 'len') return compare(values.length, c.op, c.value);
      return (values.length === 0 ? [0] : values).every((v) => compare(v, c.op, c.value));
  }
}
