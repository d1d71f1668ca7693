// When the thread was elsewhere while it waited for the GPU. Dawn tells the thread that GPU work
// ended (a fence, a buffer mapped) only when the thread polls for it, between other code: a
// cell that calls x.data(), then runs 1.5 s of host code before `await`, sees a read whose GPU
// work took 5 ms end after 1.5 s. The polls say when the thread looked: the one that saw the end,
// and the one before it, which did not. Between the two the thread ran other code, unless it was
// the transfers' own host work (copying chunks into host memory), which is noted apart.
import { gpuWaitPolls } from '../gpu-wait-pacing';
import { noteOwnHostWork } from '../transfer/move-notes';
import { spansMs } from './intervals';
import { kernelWorkIn } from './kernel-work';

/**
 * A wait the thread has just seen end, in a job the latest poll queued, or within this of its end
 * (the poll can take long itself: Dawn maps a new buffer inside it; a wait's code may run a few
 * jobs after the one the poll queued), was seen by that poll: the poll before it is the last look.
 * Seen otherwise (a callback outside the polls), no time away is claimed.
 */
const SEEN_BY_POLL_MS = 5;

/** Time away shorter than this is an event loop's ordinary turn, not the thread busy elsewhere. */
export const AWAY_MIN_MS = 1;
/**
 * After a user's call returned, the least time away that is the cell's code: between the return
 * and the poll that saw the copy land, an `await` at once still costs the turn of the event loop
 * that runs the poll (a loop of `await x.data()` showed 40–60 µs of it per read, as host busy).
 */
export const CELL_CODE_MIN_MS = 0.2;

/** The transfers' own host work kept: enough for every chunk a few moves at once have in flight. */
const KEPT_WORK = 64;

export interface Span {
  start: number;
  end: number;
}

/**
 * On performance.now()'s clock: from the end of the last poll before the one that saw the end (or
 * the wait's start) to when that one began, and the transfers' own host work in that time.
 */
export interface Away {
  from: number;
  to: number;
  working: Span[];
  /**
   * A user's call returned in it: what the thread ran there, less `working`, was the cell's own code,
   * counted from CELL_CODE_MIN_MS, not AWAY_MIN_MS (`const p = x.data();` then 0.5 ms of the cell's
   * code before `await p`, 100 times, showed that code as the read's copy: 99 ms against 22–36).
   */
  afterCall?: boolean;
}

const transferWork: Span[] = [];

/** The thread copied a chunk into host memory (or made the array it goes into): not time away. */
export function noteTransferWork(start: number, end: number): void {
  noteOwnHostWork(start, end);
  transferWork.push({ start, end });
  if (transferWork.length > KEPT_WORK) transferWork.splice(0, transferWork.length - KEPT_WORK);
}

/**
 * The transfers' host work from `from` to `to`, less `own` (the move's own). For another move's fence it is time away: a
 * 4-byte read behind a 64 MiB read waited 108 ms for a fence whose work the GPU had finished, 88 ms
 * of it while the thread copied the big read's chunk into host memory (shown as queue latency).
 */
export function transferWorkWithin(from: number, to: number, own: readonly Span[]): Span[] {
  return minusEach(transferWork.map((work) => ({ start: Math.max(work.start, from), end: Math.min(work.end, to) })), own).filter((work) => work.end > work.start);
}

/** Where the thread was since `start`, for a wait that it has just seen end. */
export function awayBeforeNow(start: number): Away {
  const now = performance.now();
  const polls = gpuWaitPolls();
  // In the latest poll's own jobs the continuation may come long after the poll: behind another
  // read's chunk copies that poll also resolved (a 4-byte read beside a 64 MiB one, then a 1 s
  // loop, showed the loop as the small read's 'queue latency 1002 ms').
  const inPollJobs = polls.pollJobsOf === polls.polls;
  if (!inPollJobs && now - polls.lastPollEndedAt > SEEN_BY_POLL_MS) return { from: now, to: now, working: [] };
  if (inPollJobs) {
    // The poll's other jobs that ran before this one (code of the cell's awaiting a promise of
    // Dawn's, another move's chunk copies) held the wait up after the GPU was seen done, as much
    // as code before the poll: a read behind a 400 ms `.then` on the cell's own fence showed it as
    // 'queue latency 401 ms'. The poll itself (its sleep, Dawn's work in it) is not time away.
    const from = Math.min(now, Math.max(start, polls.previousPollEndedAt));
    const poll = { start: polls.lastPollStartedAt, end: polls.lastPollEndedAt };
    return withCalls({ from, to: now, working: [poll, ...transferWork].filter((work) => work.start < now && work.end > from) });
  }
  const to = Math.min(now, Math.max(start, polls.lastPollStartedAt));
  const from = Math.min(to, Math.max(start, polls.previousPollEndedAt));
  return withCalls({ from, to, working: transferWork.filter((work) => work.start < to && work.end > from) });
}

/** The kernel's work on users' calls in `away` is not time away; a call that returned there handed the thread to the cell's code. */
function withCalls(away: Away): Away {
  const span = { start: away.from, end: away.to };
  if (!(span.end > span.start)) return away;
  const { pieces, callReturned } = kernelWorkIn(span);
  if (pieces.length === 0) return away;
  return { ...away, working: [...away.working, ...pieces], afterCall: callReturned };
}

/** The least time away that counts: the cell's code after a call is measured; else an event loop's turn is not time away. */
export function leastAway(away: Away): number {
  return away.afterCall === true ? CELL_CODE_MIN_MS : AWAY_MIN_MS;
}

/**
 * Where the thread was from `settled` (a wait seen to end, in a job the poll queued) until now, when
 * the move's own code comes back to it a few promise jobs later: code that poll resolved too ran in
 * between (the cell's own, behind a fence of its own: a 450 ms loop), and the transfers' own host work.
 */
export function awaySince(settled: number): Away {
  const now = performance.now();
  return { from: Math.min(settled, now), to: now, working: transferWork.filter((work) => work.start < now && work.end > settled) };
}

/** `span` less `holes`, in order. */
export function minus(span: Span, holes: readonly Span[]): Span[] {
  return minusSorted(span, [...holes].sort((a, b) => a.start - b.start));
}

/**
 * Each of `spans` less `holes`, the holes sorted once: a `Promise.all` of 1,000 reads took each
 * read's held time less every other read's copies, hole by hole, and its cell's end took 80 s.
 */
export function minusEach(spans: readonly Span[], holes: readonly Span[]): Span[] {
  const sorted = [...holes].sort((a, b) => a.start - b.start);
  return spans.flatMap((span) => minusSorted(span, sorted));
}

/** `span` less `holes` sorted by start; pieces in order. */
function minusSorted(span: Span, holes: readonly Span[]): Span[] {
  const left: Span[] = [];
  let from = span.start;
  for (const hole of holes) {
    if (hole.start >= span.end) break;
    if (hole.end <= from) continue;
    if (hole.start > from) left.push({ start: from, end: hole.start });
    from = Math.max(from, hole.end);
    if (from >= span.end) break;
  }
  if (span.end > from) left.push({ start: from, end: span.end });
  return left;
}

/** The stretches of time away after `notBefore` (before it the wait was on something known), if they come to leastAway; else none. */
export function awaySpans(away: Away, notBefore = -Infinity): Span[] {
  const start = Math.max(away.from, notBefore);
  if (!(away.to > start)) return [];
  const spans = minus({ start, end: away.to }, away.working);
  return spansMs(spans) >= leastAway(away) ? spans : [];
}

/** Time away after `notBefore`, if it comes to leastAway, else 0. */
export function awayMs(away: Away, notBefore = -Infinity): number {
  return spansMs(awaySpans(away, notBefore));
}
