// A user's move or read is timed from its call to the moment its answer reaches the cell's code.
// Its record is made a little before that: the answer still passes through the promises of the
// move's own async functions and of the wrapper that marks the call settled, and the record
// itself takes time to make. Left out, 200 uploads of 4 KiB, one awaited after another, showed
// 7–12% less than the cell's own clock around the loop here (per move: 9 µs recording, 15–20 µs
// of promise hops, 2 µs to the cell's code), and 22% less on two busy cores.
import type { Direction, MoveWait } from '../device-control';
import { AWAY_MIN_MS, CELL_CODE_MIN_MS, type Span } from './host-away';
import { spansMs } from './intervals';
import { kernelWorkBeginsIn, lessKernelWork } from './kernel-work';

/** Lengthens a record already in the ledger by these waits, after its copy (see TransferLedger.lengthen). */
export type Lengthen = (waits: Pick<MoveWait, 'cause' | 'ms' | 'device'>[]) => void;

interface Unanswered {
  /** When the record's time ends now, on performance.now()'s clock. */
  endsAt: number;
  /** Until when the kernel worked on this call's own record after endsAt (the ledger folding older records): not other calls' work. */
  ownUntil: number;
  device: string;
  lengthen: Lengthen;
  /** When the answer reached the cell's code (NaN until then). */
  answeredAt: number;
}

/** Enough answers for a `Promise.all` of that many calls: a window is looked at once the next move is recorded. */
const ANSWERS_KEPT = 20_000;

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
  /**
   * The cell's code counted between answers: entry i is that of the gaps before answer i (gap k runs
   * from answer k to answer k+1), so a window's is a difference of two entries. Each call's window
   * in a `Promise.all` of 6,000 moves spans the others' answers, and walking them for each call
   * took 5.4 s at the cell's end.
   */
  private cellCodeBefore: number[] = [0];

  /**
   * The user's call `invocation` recorded a move ending at `endsAt` (the last one it records is the
   * one its answer follows); the kernel's work on that record, noted, went on until `ownUntil`.
   */
  recorded(invocation: number, direction: Direction, from: string, to: string, endsAt: number, lengthen: Lengthen, ownUntil = endsAt): void {
    this.unanswered.set(invocation, { endsAt, ownUntil, device: direction === 'D2H' ? from : to, lengthen, answeredAt: Number.NaN });
  }

  /** The call's answer reaches the cell's code now: its record's time runs until here. */
  answered(invocation: number): void {
    const open = this.unanswered.get(invocation);
    if (open === undefined) return;
    this.unanswered.delete(invocation);
    this.answeredCalls.push(open);
    if (this.answerTimes.length >= ANSWERS_KEPT) this.forgetOldestAnswers(ANSWERS_KEPT / 2);
    open.answeredAt = performance.now();
    this.answerTimes.push(open.answeredAt);
  }

  private forgetOldestAnswers(count: number): void {
    this.answerTimes.splice(0, count);
    const base = this.cellCodeBefore[count];
    this.cellCodeBefore = base === undefined ? [0] : this.cellCodeBefore.slice(count).map((ms) => ms - base);
  }

  /** The cell's code in the gap from an answer to `end` (the next answer, or a window's end): from CELL_CODE_MIN_MS. */
  private static cellCodeAfter(answer: number, end: number): number {
    const after = spansMs(lessKernelWork({ start: answer, end }));
    return after >= CELL_CODE_MIN_MS ? after : 0;
  }

  /** Lengthens the records of the calls answered so far, each to its answer, after its copy. */
  settle(): void {
    const answered = this.answeredCalls;
    if (answered.length === 0) return;
    // Gaps whose both answers are in, looked at once: the kernel's work in them is noted by now.
    for (let index = this.cellCodeBefore.length - 1; index + 1 < this.answerTimes.length; index++) {
      this.cellCodeBefore.push(this.cellCodeBefore[index]! + CallAnswers.cellCodeAfter(this.answerTimes[index]!, this.answerTimes[index + 1]!));
    }
    this.answeredCalls = [];
    for (const { endsAt, ownUntil, answeredAt, device, lengthen } of answered) {
      const ms = answeredAt - endsAt;
      if (!(ms > 0)) continue;
      const other = Math.min(ms, this.otherCode({ start: endsAt, end: answeredAt }, ownUntil));
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
  private otherCode(window: Span, ownUntil: number): number {
    const first = this.firstAnswerAfter(window.start);
    // The last answer before the window's end (its own answer is at the end: not another's).
    const last = this.firstAnswerFrom(window.end) - 1;
    // The call's own last step began before its window, and its record's own work is its: other
    // calls' work begins inside the rest. (Asked without listing the work: a window of a
    // Promise.all of 20,000 moves holds thousands of pieces.)
    const shared = first <= last || kernelWorkBeginsIn({ start: Math.max(window.start, ownUntil), end: window.end });
    if (!shared) {
      const away = spansMs(lessKernelWork(window));
      return away >= AWAY_MIN_MS ? away : 0;
    }
    if (first > last) return 0;
    return this.cellCodeBefore[last]! - this.cellCodeBefore[first]! + CallAnswers.cellCodeAfter(this.answerTimes[last]!, window.end);
  }

  /** The index of the first answer after `at` (answerTimes is sorted). */
  private firstAnswerAfter(at: number): number {
    return this.firstAnswerWhere((time) => time > at);
  }

  /** The index of the first answer at or after `at`. */
  private firstAnswerFrom(at: number): number {
    return this.firstAnswerWhere((time) => time >= at);
  }

  private firstAnswerWhere(past: (time: number) => boolean): number {
    let low = 0;
    let high = this.answerTimes.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (past(this.answerTimes[middle]!)) high = middle;
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
