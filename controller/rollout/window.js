// Maintenance windows like "Mon-Fri 22:00-04:00 Europe/Berlin": the days name the day a window
// OPENS, so "Fri 22:00-04:00" runs into Saturday morning and Monday 02:00 belongs to a Sunday
// start. Local time comes from Intl (IANA zones, DST included); nothing here reads the clock.
import { NwError } from '../../host/errors.js';
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MINUTE = 60_000;
const bad = (spec, why) => new NwError('NW_USAGE', `maintenance window "${spec}": ${why}; write it like "Mon-Fri 22:00-04:00 Europe/Berlin"`);
function dayIndex(spec, name) {
    const i = DAY_NAMES.indexOf(name.toLowerCase().slice(0, 3));
    if (i < 0 || name.length < 3)
        throw bad(spec, `"${name}" is not a day (Mon, Tue, … Sun)`);
    return i;
}
function parseDays(spec, text) {
    if (text === '*' || /^daily$/i.test(text))
        return [0, 1, 2, 3, 4, 5, 6];
    const days = new Set();
    for (const part of text.split(',')) {
        const [from, to, extra] = part.split('-');
        if (extra !== undefined || !from)
            throw bad(spec, `"${part}" is not a day or a day range`);
        const a = dayIndex(spec, from);
        const b = to === undefined ? a : dayIndex(spec, to);
        for (let d = a;; d = (d + 1) % 7) { // ranges may wrap: Fri-Mon
            days.add(d);
            if (d === b)
                break;
        }
    }
    return [...days].sort();
}
function parseClock(spec, text) {
    const m = /^(\d{1,2}):(\d{2})$/.exec(text);
    if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && m[2] !== '00')) {
        throw bad(spec, `"${text}" is not a time HH:MM`);
    }
    return Number(m[1]) * 60 + Number(m[2]);
}
export function parseWindow(spec) {
    const parts = spec.trim().split(/\s+/);
    if (parts.length < 2 || parts.length > 3)
        throw bad(spec, 'expected DAYS HH:MM-HH:MM [TIME_ZONE]');
    const [daysText, span, timeZone = 'UTC'] = parts;
    const times = span.split('-');
    if (times.length !== 2)
        throw bad(spec, `"${span}" is not a span HH:MM-HH:MM`);
    try {
        new Intl.DateTimeFormat('en-US', { timeZone });
    }
    catch {
        throw bad(spec, `"${timeZone}" is not an IANA time zone`);
    }
    const start = parseClock(spec, times[0]) % 1440;
    const end = parseClock(spec, times[1]) % 1440;
    return { spec: spec.trim(), days: parseDays(spec, daysText), start, end, timeZone };
}
const formats = new Map();
function localTime(t, timeZone) {
    let f = formats.get(timeZone);
    if (!f) {
        f = new Intl.DateTimeFormat('en-US', {
            timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short',
        });
        formats.set(timeZone, f);
    }
    const p = {};
    for (const x of f.formatToParts(new Date(t)))
        p[x.type] = x.value;
    return {
        year: Number(p.year), month: Number(p.month), day: Number(p.day),
        weekday: DAY_NAMES.indexOf(p.weekday.toLowerCase()),
        minutes: Number(p.hour) * 60 + Number(p.minute),
    };
}
/** The UTC instant of a local wall-clock time (in a DST gap: the instant just after it). */
function zonedInstant(year, month, day, minutes, timeZone) {
    const wall = Date.UTC(year, month - 1, day, 0, minutes);
    let t = wall;
    for (let i = 0; i < 3; i++) {
        const l = localTime(t, timeZone);
        const seen = Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes);
        t += wall - seen;
    }
    return t;
}
function openIn(w, t) {
    const l = localTime(t, w.timeZone);
    if (w.start === w.end)
        return w.days.includes(l.weekday);
    if (w.start < w.end)
        return w.days.includes(l.weekday) && l.minutes >= w.start && l.minutes < w.end;
    return (w.days.includes(l.weekday) && l.minutes >= w.start) || (w.days.includes((l.weekday + 6) % 7) && l.minutes < w.end);
}
/** True when no windows are configured or one of them is open at `now`. */
export function insideWindows(windows, now) {
    const t = Date.parse(now);
    return windows.length === 0 || windows.some((w) => openIn(w, t));
}
/** The next instant (ISO) at or after `now` when a window is open; null when none opens within 8 days. */
export function nextWindowOpening(windows, now) {
    const t = Date.parse(now);
    if (insideWindows(windows, now))
        return new Date(t).toISOString();
    let best = null;
    for (const w of windows) {
        const today = localTime(t, w.timeZone);
        for (let d = 0; d <= 8; d++) {
            // walk local calendar days from today; Date.UTC normalises day overflow into the next month
            const cal = new Date(Date.UTC(today.year, today.month - 1, today.day + d));
            if (!w.days.includes(cal.getUTCDay()))
                continue;
            let at = zonedInstant(cal.getUTCFullYear(), cal.getUTCMonth() + 1, cal.getUTCDate(), w.start, w.timeZone);
            if (at <= t)
                continue;
            at = Math.ceil(at / MINUTE) * MINUTE;
            if (best === null || at < best)
                best = at;
            break;
        }
    }
    return best === null ? null : new Date(best).toISOString();
}
