// The dashboard's static files (htmx, its SSE extension, the bundled fleet module, the style
// sheet) and where they are: dist/controller/ui/static/ in a dev build (package/ui-assets.ts,
// run by `npm run build`), lib/ui-static/ beside the bundle in the package. Pages name them with
// a version (`?v=` a hash of their content), so browsers may keep them for a year.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NwError } from '../../host/errors.js';

export const ASSET_FILES = ['htmx.min.js', 'hx-sse.min.js', 'ui.js', 'ui.css'] as const;
export type AssetName = (typeof ASSET_FILES)[number];

/** The directory holding the assets, next to this module (dev build) or the bundle (package). */
export function staticDir(from = import.meta.url): string {
  const candidates = ['./static/', './ui-static/'].map((rel) => fileURLToPath(new URL(rel, from)));
  const dir = candidates.find((d) => existsSync(`${d}htmx.min.js`));
  if (!dir) throw new NwError('NW_CONFIG', `the dashboard's static files are missing (looked in ${candidates.join(' and ')}): run \`npm run build\`, or reinstall the controller package`);
  return dir;
}

/** `/ui/static/NAME?v=HASH` of every asset, the hash of all of them together. */
export function assetUrls(dir: string): Record<AssetName, string> {
  const h = createHash('sha256');
  for (const f of ASSET_FILES) h.update(readFileSync(`${dir}${f}`));
  const v = h.digest('hex').slice(0, 12);
  return Object.fromEntries(ASSET_FILES.map((f) => [f, `/ui/static/${f}?v=${v}`])) as Record<AssetName, string>;
}

/** The Content-Security-Policy of every dashboard page (dashboard contract). */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
};
