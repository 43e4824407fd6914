// The fleet page's live part, bundled for the browser into /ui/static/ui.js (package/ui-assets.ts;
// type-checked with the DOM library by its own tsconfig.json, outside the Node program).
// The server sends a named SSE event `fleet` with only the tiles and group headers that changed
// (JSON); this applies it in place: a tile's data-state and title, a header's data-worst and its
// "R/T ready" text, the summary; tiles and domains that left the page are removed, a new node's
// tile is added to its domain (a new domain: the page is loaded again). 5,000 tiles are never sent again.

// It also keeps the rollouts page's bulk confirmations counting the ticked boxes (bulk.ts).
import { startBulk } from './bulk.js';

interface Tile { name: string; domain: string; state: string; title: string }
interface Header { domain: string; ready: number; total: number; worst: string }
interface Delta { tiles: Tile[]; headers: Header[]; removed?: string[]; removedDomains?: string[]; summary: { ready: number; total: number; worst: string } }

const sectionOf = (root: Element, domain: string) => root.querySelector<HTMLElement>(`section.domain[data-domain="${CSS.escape(domain)}"]`);

function newTile(t: Tile): HTMLAnchorElement {
  const a = document.createElement('a');
  a.className = 'tile';
  a.dataset.node = t.name;
  a.href = `/ui/nodes/${encodeURIComponent(t.name)}`;
  return a;
}

/** false: the page cannot show the change in place (a domain it has no section for). */
function apply(root: Element, d: Delta): boolean {
  const tiles = new Map<string, HTMLElement>();
  for (const el of root.querySelectorAll<HTMLElement>('a.tile[data-node]')) tiles.set(el.dataset.node!, el);
  for (const name of d.removed ?? []) tiles.get(name)?.remove();
  for (const domain of d.removedDomains ?? []) sectionOf(root, domain)?.remove();
  for (const t of d.tiles) {
    let el = tiles.get(t.name);
    const home = sectionOf(root, t.domain)?.querySelector('.tiles');
    if (!home) return false;
    if (!el || el.closest('section.domain')?.getAttribute('data-domain') !== t.domain) {
      el?.remove();
      el = newTile(t);
      home.append(el);
    }
    if (el.dataset.state !== t.state) el.dataset.state = t.state;
    if (el.title !== t.title) el.title = t.title;
  }
  for (const h of d.headers) {
    const header = sectionOf(root, h.domain)?.querySelector<HTMLElement>('[data-worst]');
    if (!header) return false;
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
  return true;
}

function start(): void {
  const root = document.querySelector('[data-fleet-live]');
  if (!root) return;
  // hx-sse dispatches a named SSE event as a DOM event on the connected element, data in detail
  root.addEventListener('fleet', (e) => {
    const data = (e as CustomEvent<{ data: string }>).detail?.data;
    if (!data) return;
    try {
      if (!apply(root, JSON.parse(data) as Delta)) location.reload();
      else root.dispatchEvent(new CustomEvent('nw:fleet-applied'));
    } catch {
      // a malformed message changes nothing; the next one (or a reload) brings the page up to date
    }
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
startBulk();
