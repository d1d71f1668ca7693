// What one move notes about itself while it runs, for its timing: the staging buffers it made, and
// for each chunk it copied, when the thread saw it land and (where timed) when it landed on the GPU.
// Moves that run at once (Promise.all of reads) each note their own (a shared counter read before
// and after gave one move all of the set-up, and its copy 0).
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Away, awayBeforeNow, awaySince, minus, type Span, transferWorkWithin } from '../timing/host-away';
import { spansMs } from '../timing/intervals';

/** When a copy ended on the GPU's clock (performance.now() ms): NaN until the cell's timestamps are read. */
export interface GpuLanding {
  at: number;
}

/** An encoder a copy can be timed in: timestamps are written by empty compute passes around it. */
export interface StampableEncoder {
  beginComputePass(descriptor?: { timestampWrites?: { querySet: unknown; beginningOfPassWriteIndex?: number; endOfPassWriteIndex?: number } }): { end(): void };
}

/** Records a copy of `bytes` into `encoder` with a GPU timestamp after it; when it landed, or null when the GPU is not timed. */
export type StampCopy = (encoder: StampableEncoder, record: () => void, bytes: number) => GpuLanding | null;

/** A chunk's copy on its way: when it was submitted, and when it landed on the GPU (null when not timed). */
export interface ChunkSent {
  submitted: number;
  landed: GpuLanding | null;
}

/** A chunk's copy: when it landed on the GPU (null when not timed), and where the thread was before it saw that. */
export interface CopySeen {
  landed: GpuLanding | null;
  away: Away;
}

export interface MoveNotes {
  /** When the move made (and first mapped) staging buffers of its own, for any of its chunks. */
  setup: Span[];
  /** While a new buffer was mapped, the times the thread was elsewhere: the move was held up by the thread, not by the set-up. */
  setupAway: Away[];
  copies: CopySeen[];
  /** Every chunk's copy as it was submitted, in order. */
  sent: ChunkSent[];
  /** The move's own host work for its copy (its array made, chunks copied into host memory): not time away for its own fence. */
  hostWork: Span[];
  /**
   * When the move waited for a staging buffer another move held (every one of the pool's was out):
   * held up by that move's chunks (on the GPU, in the thread's copy), not copying.
   */
  bufferWaits: Span[];
  /**
   * While the move ran, the thread made staging buffers for other moves (a Promise.all of uploads,
   * each wanting a buffer the pool did not have yet): Dawn makes a buffer synchronously, so the
   * move was held up by that set-up, which its copy time would otherwise take in.
   */
  othersSetup: Span[];
}

/** Staging buffers made lately, and by which move (undefined: outside any move). */
interface MadeBuffer extends Span {
  by: object | undefined;
  /** A readback buffer's first map: async, so other moves' code ran meanwhile (not their set-up), but their fences may wait for it. */
  mapped?: true;
}
const made: MadeBuffer[] = [];
/** Enough for every buffer a few moves at once make (each direction's pool is bounded). */
const KEPT_MADE = 64;

/** Whose move it is: the cell that made it, on which device. */
export interface MoveOwner {
  cell: number;
  device: string;
}

/** `doneAt`: when the move's own code took its last step (see noteMoveDone). */
type OwnNotes = Omit<MoveNotes, 'othersSetup'> & { stamp: StampCopy | null; owner: MoveOwner | null; doneAt?: number };
const notes = new AsyncLocalStorage<OwnNotes>();

/** A chunk's copy any move submitted lately, with whose it was: other moves' fences may have waited for it. */
export interface SentCopy extends ChunkSent, MoveOwner {}
const sentLately: SentCopy[] = [];
/** Enough for the chunks of the moves one cell's waits can be behind (a 1 GiB move is 32 chunks). */
const KEPT_SENT = 1024;
/** Of those, per device, the ones whose landing the GPU times, in submit order. */
const timedLately = new Map<string, SentCopy[]>();
/** When a move last submitted a chunk's copy, and up to when the queue is known to have run everything submitted. */
let lastSent = -Infinity;
let doneUpTo = 0;

/** Runs one move, returning its value and what it noted. `stamp` times its copies' landing on the GPU. */
export async function notingMove<T>(stamp: StampCopy | null, move: () => Promise<T>, owner: MoveOwner | null = null): Promise<{ value: T; notes: MoveNotes }> {
  const own: OwnNotes = { setup: [], setupAway: [], copies: [], sent: [], hostWork: [], bufferWaits: [], stamp, owner };
  const start = performance.now();
  const value = await notes.run(own, move);
  const end = performance.now();
  // Its last step ran in the jobs of the poll that saw its last wait end; this comes back a few jobs
  // later, after code of the cell's that poll resolved too (a loop behind its own fence): not the copy.
  if (own.doneAt !== undefined) own.copies.push(heldSince(own.doneAt));
  const othersSetup = made.filter((buffer) => buffer.by !== own && !buffer.mapped && buffer.end > start && buffer.start < end)
    .map((buffer) => ({ start: Math.max(buffer.start, start), end: Math.min(buffer.end, end) }));
  return { value, notes: { setup: own.setup, setupAway: own.setupAway, copies: own.copies, sent: own.sent, hostWork: own.hostWork, bufferWaits: own.bufferWaits, othersSetup } };
}

/**
 * A staging buffer made from `start` to `end` (`mapped`: by its first map, which the move awaited), for
 * the move's first chunk or a later one. Dawn makes a buffer on the thread: meanwhile the move
 * neither writes nor submits a chunk, so the whole time is its set-up, never its copy (counted as
 * copy once the first chunk was on its way, a 16 MiB upload on an empty pool showed copy 201 ms
 * of a 245 ms cell whose two buffers took 216 ms to make). Time the thread was elsewhere while a
 * new buffer was mapped is noted apart: the move was held up by the thread then, not by the set-up.
 */
export function noteSetup(start: number, end: number, mapped = false): void {
  const own = notes.getStore();
  if (!own) return;
  if (mapped) own.setupAway.push(awayBeforeNow(start));
  own.setup.push({ start, end });
}

/**
 * Set-up the move awaited off the thread from `started` until now (a new buffer's first map, or its
 * clear): noted as set-up less the thread's copying of other moves' chunks meanwhile, which a poll
 * ran before this continuation (~22 ms for 8 MiB; a first map shown as 99.6 ms of set-up held a
 * read up for less than that). Returns the set-up's ms.
 */
export function noteAwaitedSetup(started: number): number {
  const ended = performance.now();
  const setup = minus({ start: started, end: ended }, transferWorkWithin(started, ended, []));
  setup.forEach((span, index) => {
    noteSetup(span.start, span.end, index === 0);
    noteBufferMade(span.start, span.end, true);
  });
  return spansMs(setup);
}

/**
 * A staging buffer was made on the thread from `start` to `end` (`mapped`: first mapped, off the
 * thread): moves running meanwhile waited for one made on the thread (see othersSetup).
 */
export function noteBufferMade(start: number, end: number, mapped = false): void {
  made.push(mapped ? { start, end, by: notes.getStore(), mapped } : { start, end, by: notes.getStore() });
  if (made.length > KEPT_MADE) made.splice(0, made.length - KEPT_MADE);
}

/** Records a chunk's copy of `bytes` into `encoder`, its landing timed on the GPU when the move was given a way to. */
export function stampedCopy(encoder: StampableEncoder, record: () => void, bytes: number): GpuLanding | null {
  const { own, sent } = recordSent(encoder, record, bytes);
  own?.sent.push(sent);
  return sent.landed;
}

/**
 * Records the clearing of a move's new buffer of `bytes` into `encoder` (transfer-engine.ts
 * clearNewBuffer). Other moves' fences queued behind it wait for a move's work, as behind a chunk
 * (a 4-byte read behind a 64 MiB upload's clear showed its 197 ms wait as copy); the move's own
 * time for it is its set-up, not a chunk's copy, so it is not among the move's chunks.
 */
export function stampedClear(encoder: StampableEncoder, record: () => void, bytes: number): void {
  recordSent(encoder, record, bytes);
}

/** Work of a move's recorded into `encoder` (submitted right after this returns), as other moves' fences see it. */
function recordSent(encoder: StampableEncoder, record: () => void, bytes: number): { own: OwnNotes | undefined; sent: ChunkSent } {
  const own = notes.getStore();
  let landed: GpuLanding | null = null;
  if (own?.stamp) landed = own.stamp(encoder, record, bytes);
  else record();
  const sent = { submitted: performance.now(), landed };
  lastSent = sent.submitted;
  if (own?.owner) {
    const copy = { ...sent, ...own.owner };
    sentLately.push(copy);
    if (copy.landed !== null) {
      const timed = timedLately.get(copy.device) ?? [];
      timed.push(copy);
      timedLately.set(copy.device, timed);
    }
    while (sentLately.length > KEPT_SENT) {
      const gone = sentLately.shift()!;
      const timed = timedLately.get(gone.device);
      if (timed?.[0] === gone) timed.shift();
    }
  }
  return { own, sent };
}

/**
 * The queue ran everything submitted before `at` (a fence begun then ended, a chunk submitted then
 * was seen landed: the queue runs submits in order).
 */
export function noteQueueDone(at: number): void {
  doneUpTo = Math.max(doneUpTo, at);
}

/**
 * Whether a move's chunk copy may still be queued or running: the GPU clock sees only tfjs's
 * submits, and a read that took it for idle skipped its fence, and its wait behind an upload's
 * chunks was counted as its own copy.
 */
export function copiesInFlight(): boolean {
  return lastSent > doneUpTo;
}

/** Chunk copies on `device` submitted by moves, as noted (their landing times arrive with the cell's timestamps). */
export function copiesSent(device: string): SentCopy[] {
  return sentLately.filter((copy) => copy.device === device);
}

/**
 * Whether a move submitted a chunk copy on `device` before `at` whose landing the GPU times: one
 * that may have been queued ahead of a copy submitted at `at`. Asked for every move: filtering the
 * 1,024 kept copies into a new list each time cost a 4-byte read loop ~180 µs a read (of ~870):
 * the earliest kept copy whose landing is timed answers it.
 */
export function copySentBefore(device: string, at: number): boolean {
  return (timedLately.get(device)?.[0]?.submitted ?? Infinity) < at;
}

/** The move's own code has taken its last step (the tensor handed over): what follows until its caller sees it done is other code's. */
export function noteMoveDone(): void {
  const own = notes.getStore();
  if (own) own.doneAt = performance.now();
}

/** The move's own host work from `start` to `end` (see MoveNotes.hostWork). */
export function noteOwnHostWork(start: number, end: number): void {
  notes.getStore()?.hostWork.push({ start, end });
}

/** The move waited from `start` to `end` for a staging buffer other moves held (see MoveNotes.bufferWaits). */
export function noteBufferWait(start: number, end: number): void {
  notes.getStore()?.bufferWaits.push({ start, end });
}

/** A chunk's copy seen landed; `mapStarted`: when its map began; `seen`: where the thread was, taken when a poll saw it (else now). */
export function noteCopySeen(landed: GpuLanding | null, mapStarted: number, seen?: Away): void {
  notes.getStore()?.copies.push({ landed, away: seen ?? awayBeforeNow(mapStarted) });
}

/**
 * A wait of the move's was seen to end at `settled` (in a job of the poll that saw it), and its own
 * code comes back only now, some promise jobs later: the time between, less the transfers' own host
 * work, the thread ran other code (the cell's, in that poll's jobs), and a copy seen late by that much.
 */
export function noteHeldSince(settled: number | null): void {
  if (settled === null) return;
  notes.getStore()?.copies.push(heldSince(settled));
}

/** A wait seen to end at `settled`, as a copy seen late: the time from then to now the thread ran other code (copySeenLateMs claims it). */
function heldSince(settled: number): CopySeen {
  return { landed: { at: settled }, away: awaySince(settled) };
}

/**
 * Staging buffers any move made or first mapped within `windows` (a move's fences), clipped to
 * them. On lavapipe a fence comes back only after a new readback buffer's first map, whichever
 * move it was for: the split counts that time as set-up where no timed pass ran (move-waits.ts).
 */
export function stagingMadeWithin(windows: readonly Span[]): Span[] {
  return made.flatMap((buffer) => windows.map((window) => ({ start: Math.max(buffer.start, window.start), end: Math.min(buffer.end, window.end) })))
    .filter((span) => span.end > span.start);
}
