// Warnings for unit-file mistakes systemd accepts silently: a `\` continuation that swallows a
// following directive, an Environment= value systemd drops (unbalanced quote, bad escape),
// a `\` followed by trailing blanks (not a continuation), and lines systemd ignores.
import { scanUnit, lineColAt, swallowedDirectives } from './unit.js';
import type { UnitSource } from './sources.js';

export interface LintWarning {
  path: string;
  line: number;
  message: string;
}

export function lintUnit(src: UnitSource): LintWarning[] {
  const { unit, problems } = scanUnit(src.text, src.path);
  const out: LintWarning[] = [];
  for (const p of problems) {
    const { line, col } = lineColAt(src.text, p.offset);
    out.push({ path: src.path, line, message: `column ${col}: ${p.message}` });
  }
  for (const l of unit.lines) {
    if (l.endLine > l.line && (l.kind === 'assignment' || l.kind === 'invalid')) {
      for (const s of swallowedDirectives(l.raw, l.line)) {
        out.push({
          path: src.path,
          line: s.line,
          message: `"${s.text}" is swallowed by the \\ continuation of ${l.key ?? 'the line'}${l.key ? '=' : ''} on line ${l.line}; systemd reads it as part of that value, not as its own directive: remove the trailing \\ on line ${s.line - 1}`,
        });
      }
    }
  }
  src.text.split('\n').forEach((t, idx) => {
    if (/\\[ \t]+$/.test(t) && !/^\s*[#;]/.test(t)) {
      out.push({
        path: src.path,
        line: idx + 1,
        message: 'a \\ followed by trailing blanks does not continue the line: delete the blanks after the \\ (or the \\)',
      });
    }
  });
  return out.sort((a, b) => a.line - b.line);
}
