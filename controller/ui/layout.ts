// The page around every dashboard view: nav (Fleet, Rollouts, Events), who is signed in, the CSRF
// token (meta + hx-headers on <body>), the alert region for an action's error, and the assets.
// No inline script or style anywhere (the CSP forbids both); htmx's own indicator styles are off.
import { html, type Html } from './html.js';
import type { AssetName } from './assets.js';
import type { UiSession } from './session.js';

export interface Shell {
  assets: Record<AssetName, string>;
}

const head = (shell: Shell, title: string, extra: Html | null = null) => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · nodewright</title>
<meta name="htmx-config" content='{"includeIndicatorCSS":false}'>
<link rel="icon" href="data:,">
${extra}<link rel="stylesheet" href="${shell.assets['ui.css']}">
<script defer src="${shell.assets['htmx.min.js']}"></script>
<script defer src="${shell.assets['hx-sse.min.js']}"></script>
<script defer src="${shell.assets['ui.js']}"></script>
</head>`;

export function page(shell: Shell, s: UiSession, title: string, body: Html): Html {
  const headers = JSON.stringify({ 'x-csrf-token': s.csrf });
  return html`${head(shell, title, html`<meta name="csrf-token" content="${s.csrf}">\n`)}
<body hx-headers="${headers}" hx-headers:inherited="${headers}">
<nav><span class="brand">nodewright</span><a href="/ui/">Fleet</a><a href="/ui/rollouts">Rollouts</a><a href="/ui/events">Events</a>
<span class="who" data-testid="whoami">${s.actor}${s.readOnly ? ' (read-only)' : ''}</span>
<form method="post" action="/ui/logout"><input type="hidden" name="_csrf" value="${s.csrf}"><button type="submit">Sign out</button></form></nav>
<main>
<div id="action-error" role="alert"></div>
${body}
</main>
</body></html>
`;
}

/** A page for the signed-out or for an error, without nav (no session to show). */
export function bare(shell: Shell, title: string, body: Html): Html {
  return html`${head(shell, title)}
<body><main>
${body}
</main></body></html>
`;
}

export const signInPage = (shell: Shell): Html =>
  bare(shell, 'Sign in', html`<h1>Sign in</h1>
<p>This dashboard needs a session. On a machine with your operator credential, run <code>nodewright ui</code> and open the
one-time link it prints (valid 60 seconds), or run <code>nodewright ui --open</code>.</p>
<p class="muted">A browser presenting an operator client certificate is signed in without a link.</p>`);

export const notFoundPage = (shell: Shell, s: UiSession, what: string, back: { href: string; text: string }): Html =>
  page(shell, s, 'Not found', html`<h1>Not found</h1><p>${what}</p><p><a href="${back.href}">${back.text}</a></p>`);
