// What a move's wait was for, in true parts. Measured on the host, a wait runs from its start to
// when the thread saw it end; Dawn tells the thread only when it polls, between other code, so a
// cell that calls x.data(), then runs 1.5 s of host code before `await`, saw a read behind 5 ms
// of GPU work end after 1.5 s (and it showed as 1.5 s of GPU work). Once the GPU's times are in
// (the cell's end), each wait is split: earlier cells' GPU work, later work (this cell's), each no
// longer than the GPU's timestamps show it ran, `gpu-latency`: the rest of the fence's round trip
// (500 tiny reads showed 208 ms of GPU work for 54.6 ms the GPU ran) less the staging set-up
// that held the fence up meanwhile, staging set-up, and
// `host-busy`: time the thread was elsewhere after the GPU had done its part. Time
// a copy was seen late moves from the copy to host-busy the same way, by when the GPU says it landed.
import type { MoveWait } from '../device-control';
import { type ChunkSent, type CopySeen, copiesSent, copySentBefore, type MoveNotes, stagingMadeWithin } from '../transfer/move-notes';
import { DETACHED_CELL } from '../../interpreter/cell-hooks';
import type { GpuInterval, GpuTimeSource } from './gpu-clock';
import { setupWhileCopyingMs } from './hidden-setup';
import { type Away, AWAY_MIN_MS, awayMs, awaySpans, leastAway, minus, minusEach, type Span, transferWorkWithin } from './host-away';
import { unionMs } from './intervals';
import type { Fence, QueueWait } from './queue-wait';

/** What the cell-end split needs, kept off the waits themselves (they go into the report as they are). */
const fencesOf = new WeakMap<MoveWait, Fence[]>();
/** Waits that began with work of their own cell queued (its submits not seen finished). */
const ownQueued = new WeakSet<MoveWait>();
/** A copy seen late: a host-busy wait of 0 ms that stands for the time, found once the copies' GPU times are in. */
const lateCopiesOf = new WeakMap<MoveWait, { copies: CopySeen[]; from: number; to: number; setupAway: Away[]; staging: Span[] }>();
/**
 * Staging buffers made or first mapped while a read's fence was out (the read queues its copy right
 * behind the fence): where the GPU's timestamps show no pass running, the fence was held by that
 * set-up, not by the queue (lavapipe backs a new readback buffer on its first map, and a fence on an
 * idle GPU resolves only after it: 124 ms of a first 64 MiB read was 'queue latency').
 */
const fenceSetupOf = new WeakMap<MoveWait, Span[]>();
/** The move's own host work (see MoveNotes.hostWork): its fence was not held up by another move's. */
const ownHostWorkOf = new WeakMap<MoveWait, Span[]>();
/**
 * A move's copy held up by other moves: the GPU copying their chunks, queued ahead of the move's
 * own first copy, and the thread copying other moves' chunks into host memory. A 4-byte read behind
 * a 64 MiB read showed 'copy 179 ms': its own copy took under 1 ms, the rest was the thread copying
 * the big read's chunks before it could see the small one's map come back; with that mended it
 * still showed 'copy 16–40 ms' of reads of 210–290 ms: it waited for one of the pool's buffers,
 * all held by the big read, which gave one back once the GPU had copied its chunk, Dawn had told
 * the thread, and the thread had copied it into host memory.
 */
interface HeldByOthers {
  /** The copy: from its fence's end (and set-up) to when the move returned. */
  from: number;
  to: number;
  /** The thread copying other moves' chunks in that time. */
  othersCopying: Span[];
  /** The move's own host work and staging set-up: neither a wait for the GPU nor for other moves. */
  own: Span[];
  /** When the move submitted its first copy: other moves' copies submitted before it ran first. */
  firstSent: number;
  /** When it waited for a staging buffer another move held (see MoveNotes.bufferWaits). */
  bufferWaits: Span[];
  /**
   * Staging buffers other moves were making in those waits: set-up, not queue latency (six reads
   * at once on an empty pool: the last two showed 95 ms of "queue latency" while the first four
   * made the buffers they waited for).
   */
  othersSetup: Span[];
  /**
   * Staging buffers other moves made while this one copied, and its own chunks: once the GPU says
   * its last chunk landed, the time its map came back after that, while another move's new buffer
   * was first mapped, was that set-up (two reads of 32 and 16 B after a fit: one showed 'copy
   * 26.3 ms', the other 24.3 ms of the set-up both waited for).
   */
  setupWhileCopying: Span[];
  sent: ChunkSent[];
}
const heldByOthersOf = new WeakMap<MoveWait, HeldByOthers>();
/** A staging set-up wait: when it ran, and the move's chunks, to find the part a chunk was copying meanwhile (see hidden-setup.ts). */
const setupOf = new WeakMap<MoveWait, { setup: Span[]; away: Span[]; sent: ChunkSent[] }>();

/**
 * The waits worth naming (a wait under 1 µs says nothing), from a move's fences, the staging
 * set-up it waited for (`stagingMs`, when it ran `staging`, with what it noted), and its copy,
 * from `copyFrom` to `copyTo` on performance.now()'s clock. Time the thread was away while a new
 * buffer was mapped is host-busy: the set-up ran meanwhile, but the move was held up by the
 * thread, not by it.
 */
export function moveWaits(device: string, cell: number, queued: QueueWait, stagingMs: number, notes?: MoveNotes, copyFrom = 0, copyTo = 0,
  staging: Span[] = [], fenceSetup: Span[] = []): MoveWait[] {
  const waits: MoveWait[] = [];
  const held = queued.heldMs ?? 0;
  if (queued.ms - held > 0.001) {
    const gpuWork: MoveWait = { cause: 'gpu-work', ms: queued.ms - held, device, earlierCells: queued.cells.filter((other) => other < cell && other !== DETACHED_CELL) };
    fencesOf.set(gpuWork, queued.fences);
    if (queued.cells.includes(cell)) ownQueued.add(gpuWork);
    if (fenceSetup.length > 0) fenceSetupOf.set(gpuWork, fenceSetup);
    if (notes !== undefined && notes.hostWork.length > 0) ownHostWorkOf.set(gpuWork, notes.hostWork);
    waits.push(gpuWork);
  }
  if (held > 0.001) waits.push({ cause: 'host-busy', ms: held, device, earlierCells: [] });
  const setupAway = notes?.setupAway.flatMap((one) => awaySpans(one)) ?? [];
  const away = Math.min(stagingMs, unionMs(setupAway));
  if (stagingMs - away > 0.001) {
    const setup: MoveWait = { cause: 'staging-setup', ms: stagingMs - away, device, earlierCells: [] };
    if (notes !== undefined && notes.sent.some((chunk) => chunk.landed !== null)) setupOf.set(setup, { setup: staging, away: setupAway, sent: notes.sent });
    waits.push(setup);
  }
  if (away > 0.001) waits.push({ cause: 'host-busy', ms: away, device, earlierCells: [] });
  const late = notes?.copies.filter((copy) => copy.landed !== null && awayMs(copy.away) > 0) ?? [];
  if (late.length > 0) {
    const placeholder: MoveWait = { cause: 'host-busy', ms: 0, device, earlierCells: [] };
    lateCopiesOf.set(placeholder, { copies: late, from: copyFrom, to: copyTo, setupAway: notes!.setupAway, staging });
    waits.push(placeholder);
  }
  // Staging set-up is already counted as such; the move's own host work is its copy.
  if (notes !== undefined && copyTo > copyFrom) {
    const own = [...notes.hostWork, ...staging];
    const othersCopying = transferWorkWithin(copyFrom, copyTo, own);
    const firstSent = notes.sent[0]?.submitted ?? -Infinity;
    const othersAhead = copySentBefore(device, firstSent);
    const setupWhileCopying = minusEach(stagingMadeWithin([{ start: copyFrom, end: copyTo }]), own);
    if (unionMs(othersCopying) >= AWAY_MIN_MS || othersAhead || notes.bufferWaits.length > 0 || unionMs(setupWhileCopying) >= AWAY_MIN_MS) {
      // Filled in at the split, once the GPU's times say when the copies ahead landed.
      const placeholder: MoveWait = { cause: 'host-busy', ms: 0, device, earlierCells: [] };
      const othersSetup = stagingMadeWithin(notes.bufferWaits.map((span) => ({ start: Math.max(span.start, copyFrom), end: Math.min(span.end, copyTo) })));
      heldByOthersOf.set(placeholder, { from: copyFrom, to: copyTo, othersCopying, own, firstSent, bufferWaits: notes.bufferWaits, othersSetup, setupWhileCopying, sent: notes.sent });
      waits.push(placeholder);
    }
  }
  return waits;
}

/**
 * A copy's time held up by other moves: where the GPU ran their chunk copies queued ahead of the
 * move's first copy (GPU work of their cells), where the thread copied their chunks into host
 * memory otherwise (host busy), and the rest of a wait for a staging buffer they held (their
 * chunk's round trip: queue latency). None includes the move's own host work.
 */
function heldByOthers(held: HeldByOthers, wait: MoveWait, gpu: { intervals: readonly GpuInterval[]; clock: { source: GpuTimeSource } } | undefined,
  cell: number): MoveWait[] {
  const timesPasses = gpu?.clock.source === 'timestamps';
  const ahead = timesPasses
    ? copyWork(wait.device, gpu?.intervals ?? []).filter((work) => work.sentAt !== undefined && work.sentAt < held.firstSent && work.end > held.from && work.start < held.to)
    : [];
  const onGpu = minusEach(ahead.map((work) => ({ start: Math.max(work.start, held.from), end: Math.min(work.end, held.to) })), held.own);
  const gpuMs = unionMs(onGpu);
  const hostMs = unionMs(minusEach(held.othersCopying, onGpu));
  // After the move's own chunks landed (by the GPU's clock), another move's buffer set-up held its map back.
  const landed = held.sent.length > 0 && held.sent.every((chunk) => chunk.landed !== null && Number.isFinite(chunk.landed.at))
    ? Math.max(...held.sent.map((chunk) => chunk.landed!.at)) : Infinity;
  const setupAfterLanding = timesPasses ? minusEach(held.setupWhileCopying, [{ start: -Infinity, end: landed }]) : [];
  const setupMs = unionMs(minusEach([...held.othersSetup, ...setupAfterLanding], [...onGpu, ...held.othersCopying, ...held.own]));
  const latencyMs = unionMs(minusEach(held.bufferWaits.map((span) => ({ start: Math.max(span.start, held.from), end: Math.min(span.end, held.to) })),
    [...onGpu, ...held.othersCopying, ...held.own, ...held.othersSetup, ...setupAfterLanding]));
  const parts: MoveWait[] = [];
  if (gpuMs > 0.001) {
    const earlierCells = cellsNamed(ahead.filter((work) => work.cell < cell));
    parts.push({ cause: 'gpu-work', ms: gpuMs, device: wait.device, earlierCells });
  }
  if (hostMs >= AWAY_MIN_MS) parts.push({ cause: 'host-busy', ms: hostMs, device: wait.device, earlierCells: [] });
  if (setupMs > 0.001) parts.push({ cause: 'staging-setup', ms: setupMs, device: wait.device, earlierCells: [] });
  if (latencyMs > 0.001) parts.push({ cause: 'gpu-latency', ms: latencyMs, device: wait.device, earlierCells: [] });
  return parts;
}

type CellTimes = ReadonlyMap<string, { intervals: readonly GpuInterval[]; clock: { source: GpuTimeSource } }>;

interface Timed {
  waitMs: number;
  copyMs: number;
  waits: MoveWait[];
}

/** The cells that queued some of `work`, as a wait names them: detached work is no cell's (its wait reads as GPU work). */
function cellsNamed(work: readonly { cell: number }[]): number[] {
  return [...new Set(work.map((one) => one.cell))].filter((cell) => cell !== DETACHED_CELL).sort((a, b) => a - b);
}

/**
 * Splits each move's waits by the GPU's own times, once they are in (the cell's end). Moves (and
 * their legs) are changed in place: time a copy was seen late moves from copyMs to waitMs.
 */
export function splitGpuWaits(moves: readonly (Timed & { legs?: Timed[] })[], times: CellTimes, cell: number): void {
  for (const move of moves) {
    const parts = new Map<MoveWait, MoveWait[]>();
    for (const wait of move.waits) {
      const setup = setupOf.get(wait);
      if (setup !== undefined) {
        // A chunk of the move was being copied while part of its set-up ran: that part is copy.
        const copyingMs = Math.min(wait.ms, setupWhileCopyingMs(setup.setup, setup.away, setup.sent));
        parts.set(wait, wait.ms - copyingMs > 0.001 ? [{ ...wait, ms: wait.ms - copyingMs }] : []);
        const leg = move.legs?.find((one) => one.waits.includes(wait));
        for (const timed of leg ? [move, leg] : [move]) {
          timed.waitMs -= copyingMs;
          timed.copyMs += copyingMs;
        }
        continue;
      }
      const held = heldByOthersOf.get(wait);
      if (held !== undefined) {
        const leg = move.legs?.find((one) => one.waits.includes(wait));
        // Never more than the copy had left (time seen late may have gone to host busy already).
        let left = leg?.copyMs ?? move.copyMs;
        const kept = heldByOthers(held, wait, times.get(wait.device), cell).map((part) => {
          const ms = Math.min(part.ms, left);
          left -= ms;
          return { ...part, ms };
        }).filter((part) => part.ms > 0.001);
        parts.set(wait, kept);
        const ms = kept.reduce((sum, part) => sum + part.ms, 0);
        for (const timed of leg ? [move, leg] : [move]) {
          timed.copyMs -= ms;
          timed.waitMs += ms;
        }
        continue;
      }
      const lateCopies = lateCopiesOf.get(wait);
      if (lateCopies === undefined) {
        parts.set(wait, splitGpuWait(wait, times.get(wait.device), cell));
        continue;
      }
      const leg = move.legs?.find((one) => one.waits.includes(wait));
      const lateMs = Math.min(copySeenLateMs(lateCopies), leg?.copyMs ?? move.copyMs);
      parts.set(wait, lateMs > 0.001 ? [{ ...wait, ms: lateMs }] : []);
      for (const timed of leg ? [move, leg] : [move]) {
        timed.copyMs -= lateMs;
        timed.waitMs += lateMs;
      }
    }
    move.waits = move.waits.flatMap((wait) => parts.get(wait) ?? [wait]);
    for (const leg of move.legs ?? []) leg.waits = leg.waits.flatMap((wait) => parts.get(wait) ?? [wait]);
  }
}

/**
 * GPU work a fence can wait for: tfjs's command buffers (by their timestamps, `submit` their place
 * in tfjs's submits) and moves' chunk copies (`sentAt`: when the move submitted it), which no pass
 * of tfjs's stamps: a 4-byte read behind an upload's 64 MiB of chunks would show its ~200 ms wait
 * as 'queue latency'.
 */
type GpuWork = GpuInterval & { sentAt?: number };

/** Whether `fence` waited for `work`: submitted before the fence began. */
function covers(work: GpuWork, fence: Fence): boolean {
  return work.sentAt !== undefined ? work.sentAt < fence.start : work.submit > 0 && work.submit <= fence.submitted;
}

/**
 * Moves' chunk copies on `device` whose landing the GPU timed, as GPU work of the moves' cells: from
 * when each was submitted, or when the GPU last finished something before it landed (it was queued
 * behind that), to its landing.
 */
function copyWork(device: string, intervals: readonly GpuInterval[]): GpuWork[] {
  // Made once per cell's split and device (every wait of the cell asks): 1,500 tiny reads made it
  // ~1,000 landed copies against ~3,000 intervals, per wait.
  const known = copyWorkMade.get(intervals)?.get(device);
  if (known !== undefined) return known;
  const landed = copiesSent(device).filter((copy) => copy.landed !== null && Number.isFinite(copy.landed.at) && copy.landed.at > copy.submitted);
  const ends = [...intervals.map((interval) => interval.end), ...landed.map((copy) => copy.landed!.at)].sort((a, b) => a - b);
  const work = landed.map((copy): GpuWork => {
    const end = copy.landed!.at;
    // The latest end before this one, if later than the submit (binary search in the sorted ends).
    let low = 0;
    let high = ends.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (ends[mid]! < end) low = mid + 1; else high = mid;
    }
    const queuedBehind = low > 0 ? Math.max(copy.submitted, ends[low - 1]!) : copy.submitted;
    return { start: queuedBehind, end, cell: copy.cell, label: null, submit: 0, sentAt: copy.submitted };
  });
  const byDevice = copyWorkMade.get(intervals) ?? new Map<string, GpuWork[]>();
  byDevice.set(device, work);
  copyWorkMade.set(intervals, byDevice);
  return work;
}
const copyWorkMade = new WeakMap<readonly GpuInterval[], Map<string, GpuWork[]>>();

function lastEnd(intervals: readonly GpuInterval[]): number {
  return intervals.reduce((latest, interval) => Math.max(latest, interval.end), -Infinity);
}

/**
 * A device's GPU work for the cell's split, looked up without walking all of it for each wait: a
 * loop of 6,000 reads split each read's wait against all 12,000 pieces of work, and its cell's
 * end took 1.6 s of a 7 s wait (quadratic).
 */
interface WorkIndex {
  /** By start, with the longest piece's length: what overlaps a stretch lies a bounded way back. */
  byStart: GpuWork[];
  starts: number[];
  longest: number;
  /** tfjs's passes by submit, and copies by when they were sent, each with the latest end so far. */
  passes: { keys: number[]; latestEnd: number[] };
  copies: { keys: number[]; latestEnd: number[] };
}

/** The first index whose key is past `key` (`inclusive`: at or past it), keys sorted. */
function firstPast(keys: readonly number[], key: number, inclusive: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (inclusive ? keys[middle]! >= key : keys[middle]! > key) high = middle;
    else low = middle + 1;
  }
  return low;
}

function latestEnds(work: readonly GpuWork[], key: (one: GpuWork) => number): { keys: number[]; latestEnd: number[] } {
  const sorted = [...work].sort((a, b) => key(a) - key(b));
  let latest = -Infinity;
  return { keys: sorted.map(key), latestEnd: sorted.map((one) => (latest = Math.max(latest, one.end))) };
}

function indexWork(work: readonly GpuWork[]): WorkIndex {
  const byStart = [...work].sort((a, b) => a.start - b.start);
  return {
    byStart,
    starts: byStart.map((one) => one.start),
    longest: byStart.reduce((most, one) => Math.max(most, one.end - one.start), 0),
    passes: latestEnds(work.filter((one) => one.sentAt === undefined && one.submit > 0), (one) => one.submit),
    copies: latestEnds(work.filter((one) => one.sentAt !== undefined), (one) => one.sentAt!),
  };
}

const NO_INTERVALS: readonly GpuInterval[] = [];

/** The index of a cell's GPU work on `device`, made once per split (every wait of the cell asks); with moves' copies where the GPU timed its passes. */
function workIndex(device: string, intervals: readonly GpuInterval[], withCopies: boolean): WorkIndex {
  const key = `${device}|${withCopies}`;
  const known = workIndexMade.get(intervals)?.get(key);
  if (known !== undefined) return known;
  const index = indexWork([...intervals, ...(withCopies ? copyWork(device, intervals) : [])]);
  const byKey = workIndexMade.get(intervals) ?? new Map<string, WorkIndex>();
  byKey.set(key, index);
  workIndexMade.set(intervals, byKey);
  return index;
}
const workIndexMade = new WeakMap<readonly GpuInterval[], Map<string, WorkIndex>>();

/** Where the last piece of work `fence` waited for ended (the latest end of all it covers); -Infinity for none. */
function lastCoveredEnd(index: WorkIndex, fence: Fence): number {
  const passes = firstPast(index.passes.keys, fence.submitted, false);
  const copies = firstPast(index.copies.keys, fence.start, true);
  return Math.max(index.passes.latestEnd[passes - 1] ?? -Infinity, index.copies.latestEnd[copies - 1] ?? -Infinity);
}

/** The pieces of work that overlap `from`–`to`. */
function overlapping(index: WorkIndex, from: number, to: number): GpuWork[] {
  const found: GpuWork[] = [];
  for (let k = firstPast(index.starts, to, true) - 1; k >= 0; k--) {
    const one = index.byStart[k]!;
    if (one.start < from - index.longest) break;
    if (one.end > from) found.push(one);
  }
  return found;
}

/**
 * One wait for GPU work in its true parts. Each fence ended (on the GPU) after the host's last
 * look that did not see it end and, where the GPU times passes, after the last pass it covered.
 * From the later of the two until the poll that saw it began, the thread was elsewhere (the
 * cell's own code: `x.data()` then a busy loop before `await`) while the GPU had finished that
 * work: that time is the host's, not the GPU's. The queue runs submits in order, so of the GPU's
 * part, earlier cells' work came first: the wait was for them until the last of their passes in
 * it ended, and for work queued later (this cell's) after that.
 */
function splitGpuWait(wait: MoveWait, gpu: { intervals: readonly GpuInterval[]; clock: { source: GpuTimeSource } } | undefined, cell: number): MoveWait[] {
  const fences = fencesOf.get(wait);
  if (wait.cause !== 'gpu-work' || fences === undefined || fences.length === 0) return [wait];
  const timesPasses = gpu?.clock.source === 'timestamps';
  const index = workIndex(wait.device, gpu?.intervals ?? NO_INTERVALS, timesPasses);
  const onGpu: GpuPart[] = [];
  let hostMs = 0;
  for (const fence of fences) {
    const lastPass = timesPasses ? lastCoveredEnd(index, fence) : -Infinity;
    const away = awayMs(fence.away, lastPass);
    // After the GPU's last work in it, the thread copying another move's chunks into host memory
    // held the fence's end up as much as code of the cell's would have.
    const copying = timesPasses ? transferWorkWithin(Math.max(fence.start, lastPass), fence.end, ownHostWorkOf.get(wait) ?? []) : [];
    const copyingMs = unionMs(copying);
    hostMs += away + copyingMs;
    // The GPU's part: up to the time away, and the poll's own sleep after it; less the host copies.
    const holes = away > 0 ? [{ start: fence.away.to - away, end: fence.away.to }, ...copying] : copying;
    for (const part of minus({ start: fence.start, end: fence.end }, holes)) onGpu.push({ from: part.start, to: part.end, fence });
  }
  const earlier = [...new Set(onGpu.flatMap(({ from, to }) => overlapping(index, from, to).filter((interval) => interval.cell < cell)))];
  const earlierDone = lastEnd(earlier);
  hostMs = Math.min(hostMs, wait.ms);
  let earlierMs = Math.min(wait.ms - hostMs, onGpu.reduce((sum, { from, to }) => sum + Math.max(0, Math.min(to, earlierDone) - from), 0));
  let laterMs = wait.ms - hostMs - earlierMs;
  let earlierCells = cellsNamed(earlier);
  // The rest is this cell's work only where the cell had work queued when the wait began, or some
  // of its work ran in the wait. Else it is the time the fence took to be seen ended after the
  // earlier cells' work (or after the GPU had finished it unseen): a wait for that work, which the
  // wait would have skipped without it. A read in a cell that ran no op showed ~1–2 ms of GPU work
  // of the cell's own.
  const ownWork = ownQueued.has(wait) || fences.some((fence) => overlapping(index, fence.start, fence.end).some((interval) => interval.cell >= cell && covers(interval, fence)));
  let folded = false;
  if (!ownWork && laterMs > 0) {
    const waitedFor = earlierCells.length > 0 ? earlierCells : wait.earlierCells;
    if (waitedFor.length > 0) {
      folded = true;
      earlierMs += laterMs;
      laterMs = 0;
      earlierCells = waitedFor;
    }
  }
  // Of the GPU's part, GPU work is only the time its passes ran (by its timestamps); the rest the
  // GPU ran none of it: the round trip of the fence (lavapipe: 0.3–0.8 ms a tiny read, the work ~0.1 ms).
  let latencyMs = 0;
  let setupMs = 0;
  // Without the GPU's times (fenced), it stays whole.
  const busy = timesPasses ? busyMs(onGpu, index, earlierDone) : null;
  if (busy !== null) {
    const earlierCap = Math.min(earlierMs, folded ? busy.before + busy.after : busy.before);
    const laterCap = Math.min(laterMs, busy.after);
    latencyMs = earlierMs - earlierCap + laterMs - laterCap;
    [earlierMs, laterMs] = [earlierCap, laterCap];
    // Of the rest, staging set-up that ran in the fence's GPU part while no pass ran held it up.
    setupMs = Math.min(latencyMs, setupInFenceMs(onGpu, fenceSetupOf.get(wait) ?? [], busy.ran));
    latencyMs -= setupMs;
  }
  const parts: MoveWait[] = [];
  if (earlierMs > 0.001) parts.push({ ...wait, ms: earlierMs, earlierCells });
  if (laterMs > 0.001) parts.push({ ...wait, ms: laterMs, earlierCells: [] });
  if (latencyMs > 0.001) parts.push({ cause: 'gpu-latency', ms: latencyMs, device: wait.device, earlierCells: [] });
  if (setupMs > 0.001) parts.push({ cause: 'staging-setup', ms: setupMs, device: wait.device, earlierCells: [] });
  if (hostMs > 0.001) parts.push({ cause: 'host-busy', ms: hostMs, device: wait.device, earlierCells: [] });
  return parts;
}

/** A stretch of a fence's wait when the GPU, not the thread, held it up (performance.now() ms). */
interface GpuPart {
  from: number;
  to: number;
  fence: Fence;
}

/**
 * The time the GPU ran the work the fences waited for (the passes of the submits each covers)
 * and moves' chunk copies within their GPU parts, up to `earlierDone` (earlier cells' work came
 * first) and after it. Copies tfjs records outside any pass are not in it.
 */
function busyMs(onGpu: readonly GpuPart[], index: WorkIndex, earlierDone: number): { before: number; after: number; ran: Span[] } {
  const ran: { start: number; end: number }[] = [];
  for (const { from, to, fence } of onGpu) {
    for (const interval of overlapping(index, from, to)) {
      if (!covers(interval, fence)) continue;
      const start = Math.max(from, interval.start);
      const end = Math.min(to, interval.end);
      if (end > start) ran.push({ start, end });
    }
  }
  const all = unionMs(ran);
  const before = unionMs(ran.map((span) => ({ start: span.start, end: Math.min(span.end, earlierDone) })).filter((span) => span.end > span.start));
  return { before, after: all - before, ran };
}

/** Spans clipped to windows (each piece once per window it falls in; the windows do not overlap). */
function within(spans: readonly Span[], windows: readonly Span[]): Span[] {
  return spans.flatMap((span) => windows.map((window) => ({ start: Math.max(span.start, window.start), end: Math.min(span.end, window.end) })))
    .filter((span) => span.end > span.start);
}

/** The time staging set-up ran inside the fences' GPU parts while no pass the fences covered ran. */
function setupInFenceMs(onGpu: readonly GpuPart[], setup: readonly Span[], ran: readonly Span[]): number {
  if (setup.length === 0) return 0;
  const inFence = within(setup, onGpu.map(({ from, to }) => ({ start: from, end: to })));
  return unionMs(inFence) - unionMs(within(inFence, ran));
}

/**
 * Of a copy's time, how long the thread was elsewhere after the GPU had copied: from when each
 * chunk landed (by the GPU's clock) until the poll that saw it, the thread was away. Chunks seen
 * in one poll are away together (counted once), as is time already counted as the set-up's: the
 * thread away while a new buffer was mapped, and staging buffers made meanwhile (this move's, or
 * another's in a Promise.all: made on the thread between two polls, they were counted both as
 * set-up and as host busy, and a 1 MiB upload's copy could come to 0). A chunk whose time did
 * not arrive claims nothing.
 */
function copySeenLateMs(late: { copies: CopySeen[]; from: number; to: number; setupAway: Away[]; staging: Span[] }): number {
  const away = late.copies.flatMap(({ landed, away: chunk }) => (landed !== null && Number.isFinite(landed.at) ? awaySpans(chunk, Math.max(landed.at, late.from)) : []))
    .map((span) => ({ start: span.start, end: Math.min(span.end, late.to) })).filter((span) => span.end > span.start);
  const setup = [...late.setupAway.flatMap((one) => awaySpans(one)), ...late.staging];
  const ms = unionMs([...away, ...setup]) - unionMs(setup);
  // After the user's call returned, what held the copy up was the cell's code, measured (host-away.ts).
  return ms >= Math.min(...late.copies.map((copy) => leastAway(copy.away))) ? ms : 0;
}
