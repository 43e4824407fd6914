// The pages of the sign-in routes (login-routes.ts): a refused link and any other refusal, as small
// static HTML with every interpolation escaped, no script, no style, and headers that keep them
// out of frames, caches and referrers (the link's code is in the URL).
import type { FastifyReply } from 'fastify';
import { escapeHtml } from './html.js';

export const SIGN_IN_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

export function page(title: string, paragraphs: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · nodewright</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
</main></body></html>
`;
}

/** A used, expired or unknown sign-in link. */
export const linkRefusedPage = (): string =>
  page('Sign in', [
    'This sign-in link was already used or has expired: a link is valid for 60 seconds and opens one session.',
    'Run `nodewright ui` again (with your operator credential) for a new link, and open it at once.',
  ]);

export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(SIGN_IN_HEADERS).send(html);
}
