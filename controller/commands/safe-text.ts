// What the CLI prints of text an agent chose (hostname, addresses, reasons, messages, events):
// terminal control characters never reach the operator's terminal. Text output drops them; JSON
// output escapes them (\u001b, \u009b), so it parses to exactly the same values.
// C0 controls (but tab and newline), DEL, C1 controls, and the bidirectional overrides that
// reorder what a line appears to say.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
/** What JSON.stringify leaves unescaped in strings (it escapes C0 itself; its own newlines are layout). */
const UNESCAPED_BY_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** Lines for the terminal: controls removed, line breaks kept (the printer's own). */
export const terminalText = (s: string): string => s.replace(CONTROL, '');

/** One field of a line or table cell: controls and line breaks removed (a field cannot forge a line). */
export const fieldText = (s: string | null | undefined): string => (s ?? '').replace(CONTROL_OR_BREAK, '');

/** JSON with every control escaped: the same values, nothing a terminal acts on. */
export const jsonText = (v: unknown, indent?: number): string =>
  JSON.stringify(v, null, indent).replace(UNESCAPED_BY_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
