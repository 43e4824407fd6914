// The one way the dashboard writes HTML: a tagged template that escapes every interpolation for
// text and attribute context alike (& < > " '), joins arrays, drops null/undefined/false, and
// passes through only what is already a rendered fragment (`Html`, made by this tag or by raw()).
// Everything an agent or an operator wrote reaches the page through here.

/** Rendered, trusted HTML. Only this module makes one. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** An already-rendered fragment (e.g. a page part cached as text): never agent text. */
export const raw = (text: string): Html => new Html(text);

/**
 * A dashboard path built from names: every segment encodeURIComponent'd, so a name can never make
 * a `javascript:` URL, leave /ui/ or add a query. `/ui/nodes/${name}` → href('nodes', name).
 */
export function href(...segments: string[]): string {
  return '/ui/' + segments.map(encodeURIComponent).join('/');
}

/** A query string from the non-empty parameters ('' when none). */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
