// The dashboard's HTML tag: nothing interpolated can become markup, script, an attribute break-out or a URL scheme.
import { describe, expect, it } from 'vitest';
import { escapeHtml, href, html, query, raw } from '../../../../controller/ui/html.js';

describe('html`…`', () => {
  it('escapes text: a script tag and markup become text', () => {
    const msg = '<script>alert(1)</script><b>x</b>';
    expect(html`<td>${msg}</td>`.text).toBe('<td>&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;</td>');
  });

  it('escapes attribute context: quotes of both kinds cannot close the attribute', () => {
    expect(html`<a title="${'x" onmouseover="alert(1)'}">`.text).toBe('<a title="x&quot; onmouseover=&quot;alert(1)">');
    expect(html`<a title='${"x' onclick='alert(1)"}'>`.text).toBe("<a title='x&#39; onclick=&#39;alert(1)'>");
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('joins arrays, drops null/undefined/false, keeps 0, and passes fragments through unescaped', () => {
    const rows = ['a<', 'b'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${rows}</ul>`.text).toBe('<ul><li>a&lt;</li><li>b</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.text).toBe('0');
    expect(html`<p>${raw('<i>ok</i>')}</p>`.text).toBe('<p><i>ok</i></p>');
  });

  it('a plain object pretending to be a fragment is escaped, not trusted', () => {
    const fake = { text: '<script>x</script>', toString: () => '<script>x</script>' } as unknown as string;
    expect(html`${fake}`.text).toBe('&lt;script&gt;x&lt;/script&gt;');
  });
});

describe('href()', () => {
  it('encodes every segment: javascript: names, slashes, queries and dots stay inside /ui/', () => {
    expect(href('nodes', 'javascript:alert(1)')).toBe('/ui/nodes/javascript%3Aalert(1)');
    expect(href('nodes', '../../v1/nodes?x=1#y')).toBe('/ui/nodes/..%2F..%2Fv1%2Fnodes%3Fx%3D1%23y');
    expect(html`<a href="${href('nodes', '"><script>')}">`.text).toBe('<a href="/ui/nodes/%22%3E%3Cscript%3E">');
  });

  it('query() keeps only set parameters, encoded', () => {
    expect(query({ domain: 'hv 1', label: 'k=v&x', state: '', before: undefined })).toBe('?domain=hv+1&label=k%3Dv%26x');
    expect(query({})).toBe('');
  });
});
