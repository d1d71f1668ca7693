// What one move notes about itself while it runs, for its timing: the staging buffers it made, and
// for each chunk it copied, when the thread saw it land and (where timed) when it landed on the GPU.
// Moves that run at once (Promise.all of reads) each note their own (a shared counter read before
// and after gave one move all of the set-up, and its copy 0).
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Away, awayBeforeNow, awaySpans, type Span } from '../timing/host-away';
import { unionMs } from '../timing/intervals';

/** When a copy ended on the GPU's clock (performance.now() ms): NaN until the cell's timestamps are read. */
export interface GpuLanding {
  at: number;
}

/** An encoder a copy can be timed in: timestamps are written by empty compute passes around it. */
export interface StampableEncoder {
  beginComputePass(descriptor?: { timestampWrites?: { querySet: unknown; beginningOfPassWriteIndex?: number; endOfPassWriteIndex?: number } }): { end(): void };
}

/** Records a copy into `encoder` with a GPU timestamp after it; when it landed, or null when the GPU is not timed. */
export type StampCopy = (encoder: StampableEncoder, record: () => void) => GpuLanding | null;

/** A chunk's copy: when it landed on the GPU (null when not timed), and where the thread was before it saw that. */
export interface CopySeen {
  landed: GpuLanding | null;
  away: Away;
}

export interface MoveNotes {
  /** Time spent making staging buffers. */
  setupMs: number;
  /** While a new buffer was mapped, the times the thread was elsewhere: the move was held up by the thread, not by the set-up. */
  setupAway: Away[];
  copies: CopySeen[];
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
}
const made: MadeBuffer[] = [];
/** Enough for every buffer a few moves at once make (each direction's pool is bounded). */
const KEPT_MADE = 64;

/** `copying`: the move has submitted a copy of its own. */
const notes = new AsyncLocalStorage<Omit<MoveNotes, 'othersSetup'> & { stamp: StampCopy | null; copying: boolean }>();

/** Runs one move, returning its value and what it noted. `stamp` times its copies' landing on the GPU. */
export async function notingMove<T>(stamp: StampCopy | null, move: () => Promise<T>): Promise<{ value: T; notes: MoveNotes }> {
  const own = { setupMs: 0, setupAway: [], copies: [], stamp, copying: false };
  const start = performance.now();
  const value = await notes.run(own, move);
  const end = performance.now();
  const othersSetup = made.filter((buffer) => buffer.by !== own && buffer.end > start && buffer.start < end)
    .map((buffer) => ({ start: Math.max(buffer.start, start), end: Math.min(buffer.end, end) }));
  return { value, notes: { setupMs: own.setupMs, setupAway: own.setupAway, copies: own.copies, othersSetup } };
}

/**
 * A staging buffer made (`mapStarted`: when its first map began, if the move waited for one). Made
 * once the move's first chunk is on its way, it is made while that chunk copies: the move is
 * copying then, not waiting (counted as a wait, it was taken off the copy, and a 16 MiB upload's
 * GB/s was three times what its copy ran at). Only the time the thread was elsewhere meanwhile
 * still holds the move up.
 */
export function noteSetup(ms: number, mapStarted?: number): void {
  const own = notes.getStore();
  if (!own) return;
  const away = mapStarted === undefined ? null : awayBeforeNow(mapStarted);
  if (away !== null) own.setupAway.push(away);
  own.setupMs += !own.copying ? ms : away === null ? 0 : Math.min(ms, unionMs(awaySpans(away)));
}

/** A staging buffer was made on the thread from `start` to `end`: moves running meanwhile waited for it (see othersSetup). */
export function noteBufferMade(start: number, end: number): void {
  made.push({ start, end, by: notes.getStore() });
  if (made.length > KEPT_MADE) made.splice(0, made.length - KEPT_MADE);
}

/** Records a chunk's copy into `encoder`, its landing timed on the GPU when the move was given a way to. */
export function stampedCopy(encoder: StampableEncoder, record: () => void): GpuLanding | null {
  const own = notes.getStore();
  if (own) own.copying = true;
  const stamp = own?.stamp;
  if (!stamp) {
    record();
    return null;
  }
  return stamp(encoder, record);
}

/** A chunk's copy seen landed; `mapStarted`: when its map began. */
export function noteCopySeen(landed: GpuLanding | null, mapStarted: number): void {
  notes.getStore()?.copies.push({ landed, away: awayBeforeNow(mapStarted) });
}
