// A user's move or read is timed from its call to the moment its answer reaches the cell's code.
// Its record is made a little before that: the answer still passes through the promises of the
// move's own async functions and of the wrapper that marks the call settled, and the record
// itself takes time to make. Left out, 200 uploads of 4 KiB, one awaited after another, showed
// 7–12% less than the cell's own clock around the loop here (per move: 9 µs recording, 15–20 µs
// of promise hops, 2 µs to the cell's code), and 22% less on two busy cores.
import type { Direction, MoveWait } from '../device-control';
import { AWAY_MIN_MS } from './host-away';
import { lessKernelWork } from './kernel-work';

/** Lengthens a record already in the ledger by these waits (see TransferLedger.lengthen). */
export type Lengthen = (waits: Pick<MoveWait, 'cause' | 'ms' | 'device'>[]) => void;

interface Unanswered {
  /** When the record's time ends now, on performance.now()'s clock. */
  endsAt: number;
  device: string;
  lengthen: Lengthen;
  /** When the answer reached the cell's code (NaN until then). */
  answeredAt: number;
}

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
    open.answeredAt = performance.now();
  }

  /**
   * Lengthens the records of the calls answered so far, each to its answer. On the way back, the
   * kernel's work on this call and others (a `Promise.all`'s other moves recording) is the
   * kernel's; so are the promise hops, microseconds each. Other code that held the thread a
   * millisecond or more (another of the cell's continuations) is host busy.
   */
  settle(): void {
    const answered = this.answeredCalls;
    if (answered.length === 0) return;
    this.answeredCalls = [];
    for (const { endsAt, answeredAt, device, lengthen } of answered) {
      const ms = answeredAt - endsAt;
      if (!(ms > 0)) continue;
      const away = lessKernelWork({ start: endsAt, end: answeredAt }).reduce((sum, span) => sum + span.end - span.start, 0);
      const other = away >= AWAY_MIN_MS ? away : 0;
      const waits: Pick<MoveWait, 'cause' | 'ms' | 'device'>[] = [];
      if (ms - other > 0) waits.push({ cause: 'tsgpu', ms: ms - other, device });
      if (other > 0) waits.push({ cause: 'host-busy', ms: other, device });
      lengthen(waits);
    }
  }

  /** The cell ended: the answered are settled; a call still unanswered (left unawaited, settling after the report) keeps its record as it is. */
  endCell(): void {
    this.settle();
    this.unanswered.clear();
  }
}
