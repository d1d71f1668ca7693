// The order in which one client sent two messages, from the dates it stamped on them.
//
// Shell and control are separate sockets, so a client's interrupt_request sent just before its
// next execute_request can be read after it: by then the cell it was meant for may have ended and
// the new one be running. The header dates say which the client sent first. They are compared only
// within one session (one client, one clock), and only when one is strictly earlier at the
// precision both carry: jupyter_client stamps microseconds; clients that stamp milliseconds
// often send both in one millisecond, and then the order stays unknown.

/** Microseconds since the epoch, and how many fraction digits the date carried (0–6). */
interface SentAt {
  micros: number;
  digits: number;
}

const ISO_DATE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

export function sentAt(date: unknown): SentAt | null {
  if (typeof date !== 'string') return null;
  const match = ISO_DATE.exec(date);
  if (!match) return null;
  // Without a zone jupyter_client means UTC (it stamps aware dates; older ones stamped naive UTC).
  const wholeSecondsMs = Date.parse(`${match[1]}${match[3] ?? 'Z'}`);
  if (Number.isNaN(wholeSecondsMs)) return null;
  const fraction = (match[2] ?? '').slice(0, 6);
  return { micros: wholeSecondsMs * 1000 + Number(fraction.padEnd(6, '0')), digits: fraction.length };
}

interface Stamped {
  header: { session?: unknown; date?: unknown };
}

/**
 * True only when `earlier` and `later` come from the same session and `earlier`'s date is strictly
 * before `later`'s at the coarser of their two precisions. False means "not known", not "after".
 */
export function sentBefore(earlier: Stamped, later: Stamped): boolean {
  const session = earlier.header.session;
  if (typeof session !== 'string' || session === '' || session !== later.header.session) return false;
  const a = sentAt(earlier.header.date);
  const b = sentAt(later.header.date);
  if (!a || !b) return false;
  const unit = 10 ** (6 - Math.min(a.digits, b.digits));
  return Math.floor(a.micros / unit) < Math.floor(b.micros / unit);
}
