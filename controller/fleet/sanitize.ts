// Agent-chosen text on its way into the store (nodes.reason, node.health events, rollout reasons):
// terminal escape sequences and control characters removed, at most 1 KiB of UTF-8. A hostile or
// broken agent must not grow the store or reach an operator's terminal through its messages.

export const AGENT_TEXT_MAX_BYTES = 1024;

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \) and two-character escapes, as whole sequences
// (and their 8-bit C1 forms), so `\x1b[31m` leaves nothing behind instead of `[31m`.
const ESCAPES = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[@-_]/g;
// C0, DEL, C1, and the bidirectional overrides that reorder what a terminal shows; lone surrogates.
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Printable text of at most `maxBytes` UTF-8 bytes; CR/LF/TAB become a space. */
export function agentText(raw: unknown, maxBytes = AGENT_TEXT_MAX_BYTES): string {
  const s = typeof raw === 'string' ? raw : raw === undefined || raw === null ? '' : String(raw);
  // cut long input before the regexes: nothing past ~4× the budget can survive anyway
  const cleaned = s.slice(0, maxBytes * 4).replace(ESCAPES, '').replace(/[\t\r\n]+/g, ' ').replace(CONTROLS, '');
  return truncateUtf8(cleaned, maxBytes);
}

/** `agentText` for a value that may be absent. */
export const agentTextOrNull = (raw: string | null | undefined): string | null => (raw === null || raw === undefined ? null : agentText(raw));

function truncateUtf8(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s) <= maxBytes) return s;
  const ellipsis = '…'; // 3 bytes
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes - 3) break;
    bytes += n;
    out += ch;
  }
  return out + ellipsis;
}
