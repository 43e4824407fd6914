/// <reference lib="dom" />
// The fleet page's live part, bundled for the browser into /ui/static/ui.js (package/ui-assets.ts).
// The server sends a named SSE event `fleet` with only the tiles and group headers that changed
// (JSON); this applies it in place: a tile's data-state and title, a header's data-worst and its
// "R/T ready" text, the summary. 5,000 tiles are never sent again.

interface Tile { name: string; state: string; title: string }
interface Header { domain: string; ready: number; total: number; worst: string }
interface Delta { tiles: Tile[]; headers: Header[]; summary: { ready: number; total: number; worst: string } }

function apply(root: Element, d: Delta): void {
  const tiles = new Map<string, HTMLElement>();
  for (const el of root.querySelectorAll<HTMLElement>('a.tile[data-node]')) tiles.set(el.dataset.node!, el);
  for (const t of d.tiles) {
    const el = tiles.get(t.name);
    if (!el) continue; // filtered out of this page
    if (el.dataset.state !== t.state) el.dataset.state = t.state;
    if (el.title !== t.title) el.title = t.title;
  }
  for (const h of d.headers) {
    const section = root.querySelector<HTMLElement>(`section.domain[data-domain="${CSS.escape(h.domain)}"]`);
    const header = section?.querySelector<HTMLElement>('[data-worst]');
    if (!header) continue;
    header.dataset.worst = h.worst;
    const count = header.querySelector('.count');
    if (count) count.textContent = `${h.ready}/${h.total} ready`;
    const worst = header.querySelector<HTMLElement>('.worst');
    if (worst) {
      worst.textContent = h.worst;
      worst.dataset.state = h.worst;
    }
  }
  const summary = document.querySelector<HTMLElement>('[data-testid=fleet-summary]');
  if (summary) {
    summary.dataset.worst = d.summary.worst;
    const ready = summary.querySelector('.count');
    if (ready) ready.textContent = `${d.summary.ready}/${d.summary.total} ready`;
    const worst = summary.querySelector<HTMLElement>('.worst');
    if (worst) {
      worst.textContent = d.summary.worst;
      worst.dataset.state = d.summary.worst;
    }
  }
}

function start(): void {
  const root = document.querySelector('[data-fleet-live]');
  if (!root) return;
  // hx-sse dispatches a named SSE event as a DOM event on the connected element, data in detail
  root.addEventListener('fleet', (e) => {
    const data = (e as CustomEvent<{ data: string }>).detail?.data;
    if (!data) return;
    try {
      apply(root, JSON.parse(data) as Delta);
      root.dispatchEvent(new CustomEvent('nw:fleet-applied'));
    } catch {
      // a malformed message changes nothing; the next one (or a reload) brings the page up to date
    }
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
