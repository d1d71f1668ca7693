// A call's way back, from its record to the moment its answer reaches the cell's code: the
// kernel's own work on its record there (the ledger folding older records) is tsgpu, and the other
// code that ran before the answer is host busy. Both stretches are real, timed by the test's clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MoveWait } from '../../kernel/device/device-control';
import { CallAnswers } from '../../kernel/device/timing/call-answer';
import { noteKernelWork } from '../../kernel/device/timing/kernel-work';

function busy(ms: number): { start: number; end: number } {
  const start = performance.now();
  while (performance.now() - start < ms) { /* the thread held */ }
  return { start, end: performance.now() };
}

const partOf = (waits: readonly Pick<MoveWait, 'cause' | 'ms'>[], cause: MoveWait['cause']): number =>
  waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);

test('a lone call\'s own record work after its end is tsgpu; other code before its answer stays host busy', () => {
  const answers = new CallAnswers();
  let lengthened: Pick<MoveWait, 'cause' | 'ms' | 'device'>[] = [];
  const endsAt = performance.now();
  // The record's making folded older records: the kernel's work, noted as such.
  const folding = busy(20);
  noteKernelWork(folding.start, folding.end);
  const recordedAt = performance.now();
  answers.recorded(1, 'D2H', 'gpu:0', 'cpu', endsAt, (waits) => { lengthened = waits; }, recordedAt);
  // Another of the cell's promise chains runs before the answer gets its turn.
  const other = busy(12);
  answers.answered(1);
  const answeredAt = performance.now();
  answers.settle();
  const tsgpu = partOf(lengthened, 'tsgpu');
  const hostBusy = partOf(lengthened, 'host-busy');
  assert.ok(tsgpu >= folding.end - folding.start - 0.05, `the fold's ${(folding.end - folding.start).toFixed(2)} ms are tsgpu: ${JSON.stringify(lengthened)}`);
  assert.ok(hostBusy >= other.end - other.start - 0.05, `the other code's ${(other.end - other.start).toFixed(2)} ms are host busy: ${JSON.stringify(lengthened)}`);
  assert.ok(Math.abs(tsgpu + hostBusy - (answeredAt - endsAt)) < 0.5, `the parts fill the way back: ${JSON.stringify(lengthened)}`);
});
