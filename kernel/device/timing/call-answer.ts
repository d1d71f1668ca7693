// A user's move or read is timed from its call to the moment its answer reaches the cell's code.
// Its record is made a little before that: the answer still passes through the promises of the
// move's own async functions and of the wrapper that marks the call settled, and the record
// itself takes time to make. Left out, 200 uploads of 4 KiB, one awaited after another, showed
// 7–12% less than the cell's own clock around the loop here (per move: 9 µs recording, 15–20 µs
// of promise hops, 2 µs to the cell's code), and 22% less on two busy cores.
import type { Direction, MoveWait } from '../device-control';
import { AWAY_MIN_MS, CELL_CODE_MIN_MS, type Span } from './host-away';
import { kernelWorkIn, lessKernelWork } from './kernel-work';

/** Lengthens a record already in the ledger by these waits, after its copy (see TransferLedger.lengthen). */
export type Lengthen = (waits: Pick<MoveWait, 'cause' | 'ms' | 'device'>[]) => void;

interface Unanswered {
  /** When the record's time ends now, on performance.now()'s clock. */
  endsAt: number;
  device: string;
  lengthen: Lengthen;
  /** When the answer reached the cell's code (NaN until then). */
  answeredAt: number;
}

/** Enough answers for a `Promise.all` of that many calls: a window is looked at once the next move is recorded. */
const ANSWERS_KEPT = 20_000;

const spanMs = (spans: readonly Span[]): number => spans.reduce((sum, span) => sum + span.end - span.start, 0);

/**
 * The records of users' calls whose answers have not reached the cell's code yet, and of those
 * whose answers have, until their records are lengthened (settle()). An answer only notes its
 * time, as the last thing it does: lengthening the record there took 4 µs a call, after the time
 * it noted, which showed nowhere.
 */
export class CallAnswers {
  /** By the call's invocation. */
  private readonly unanswered = new Map<number, Unanswered>();
  private answeredCalls: Unanswered[] = [];
  /** When each answer reached the cell's code, in order: the cell's code may run after each. */
  private readonly answerTimes: number[] = [];

  /** The user's call `invocation` recorded a move ending at `endsAt` (the last one it records is the one its answer follows). */
  recorded(invocation: number, direction: Direction, from: string, to: string, endsAt: number, lengthen: Lengthen): void {
    this.unanswered.set(invocation, { endsAt, device: direction === 'D2H' ? from : to, lengthen, answeredAt: Number.NaN });
  }

  /** The call's answer reaches the cell's code now: its record's time runs until here. */
  answered(invocation: number): void {
    const open = this.unanswered.get(invocation);
    if (open === undefined) return;
    this.unanswered.delete(invocation);
    this.answeredCalls.push(open);
    if (this.answerTimes.length >= ANSWERS_KEPT) this.answerTimes.splice(0, ANSWERS_KEPT / 2);
    open.answeredAt = performance.now();
    this.answerTimes.push(open.answeredAt);
  }

  /** Lengthens the records of the calls answered so far, each to its answer, after its copy. */
  settle(): void {
    const answered = this.answeredCalls;
    if (answered.length === 0) return;
    this.answeredCalls = [];
    for (const { endsAt, answeredAt, device, lengthen } of answered) {
      const ms = answeredAt - endsAt;
      if (!(ms > 0)) continue;
      const other = Math.min(ms, this.otherCode({ start: endsAt, end: answeredAt }));
      const waits: Pick<MoveWait, 'cause' | 'ms' | 'device'>[] = [];
      if (ms - other > 0) waits.push({ cause: 'tsgpu', ms: ms - other, device });
      if (other > 0) waits.push({ cause: 'host-busy', ms: other, device });
      lengthen(waits);
    }
  }

  /**
   * What of a call's way back (`window`, its record to its answer) was not the kernel's. With other
   * calls under way (a `Promise.all` of 200 moves), their steps share it: their records (noted
   * kernel work) and the promise hops of their own ways back (not noted, 10–14 µs a call, over a
   * millisecond in all), which are the kernel's too. The cell's code runs there only after another
   * call's answer (its continuation), until the next answer or the window's end: that, from
   * CELL_CODE_MIN_MS. With no other call there, anything but the kernel's noted work is other code
   * (a collection, another of the cell's promise chains) from AWAY_MIN_MS.
   */
  private otherCode(window: Span): number {
    const first = this.firstAnswerAfter(window.start);
    const others: number[] = [];
    for (let index = first; index < this.answerTimes.length && this.answerTimes[index]! < window.end; index++) others.push(this.answerTimes[index]!);
    // The call's own last step began before its window: other calls' work begins inside it.
    const shared = others.length > 0 || kernelWorkIn(window).pieces.some((piece) => piece.start > window.start);
    if (!shared) {
      const away = spanMs(lessKernelWork(window));
      return away >= AWAY_MIN_MS ? away : 0;
    }
    let other = 0;
    others.forEach((answer, index) => {
      const after = spanMs(lessKernelWork({ start: answer, end: others[index + 1] ?? window.end }));
      if (after >= CELL_CODE_MIN_MS) other += after;
    });
    return other;
  }

  /** The index of the first answer after `at` (answerTimes is sorted). */
  private firstAnswerAfter(at: number): number {
    let low = 0;
    let high = this.answerTimes.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.answerTimes[middle]! > at) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** The cell ended: the answered are settled; a call still unanswered (left unawaited, settling after the report) keeps its record as it is. */
  endCell(): void {
    this.settle();
    this.unanswered.clear();
  }
}
