// A garbage collection that paused the thread while a move waited is named as such, where it lay,
// taken out of the host busy (or, inside the kernel's own work, the tsgpu overhead, or a small
// upload's write) it had been counted as. The collections here are real: a full one forced by the
// test, timed by the test's own clock around the call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MoveWait, TransferRecord } from '../../kernel/device/device-control';
import { TransferLedger } from '../../kernel/device/ledger';
import { CollectionWaits } from '../../kernel/device/timing/collections';
import { summarizeTransfers } from '../../kernel/display/report/cell-report';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Enough live objects that a full collection takes milliseconds, not microseconds. */
const heap = Array.from({ length: 300_000 }, (_, index) => ({ index, text: `item ${index}` }));

/** A forced full collection, timed by this test's clock: [start, end] on performance.now()'s. */
function collect(): { start: number; end: number } {
  const start = performance.now();
  gc();
  return { start, end: performance.now() };
}

function upload(ms: number, waits: MoveWait[], copyMs = 0.1): TransferRecord {
  const waitMs = waits.reduce((sum, wait) => sum + wait.ms, 0);
  return {
    direction: 'H2D', from: 'cpu', to: 'gpu:0', bytes: 4096, ms, waitMs, copyMs, waits, cause: 'explicit', operation: 'to',
    cell: 1, line: 1, at: 0, scalar: false, via: { by: 'user', call: 'to', invocation: 1 }, inLoop: false, reverses: null,
  };
}

const partOf = (move: { waits: MoveWait[] }, cause: MoveWait['cause']): number => move.waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);

test('a collection while a move was held up: gc where it lay, host busy only what is left', async () => {
  assert.ok(heap.length > 0);
  // Watching from its start, as the kernel's session does.
  const waits = new CollectionWaits(() => []);
  const start = performance.now();
  const pause = collect();
  const end = performance.now() + 2;
  const pauseMs = pause.end - pause.start;
  assert.ok(pauseMs > 1, `the forced collection took ${pauseMs.toFixed(2)} ms: too short to tell`);
  // The move waited from start to its copy at end - 0.1: all of it host busy, by the old rules.
  const move = upload(end - start, [{ cause: 'host-busy', ms: end - start - 0.1, device: 'gpu:0', earlierCells: [] }]);
  await waits.name([{ move, start }]);
  const collected = partOf(move, 'gc');
  // The collection's entry times V8's pause; the test's clock also holds the call into it.
  assert.ok(collected >= 0.9 * pauseMs && collected <= pauseMs + 0.05, `gc ${collected.toFixed(2)} ms, the test's clock ${pauseMs.toFixed(2)} ms: ${JSON.stringify(move.waits)}`);
  assert.ok(Math.abs(partOf(move, 'host-busy') + collected - (end - start - 0.1)) < 1e-6, 'the move\'s wait is the same, only split');
  const placed = move.waits.find((wait) => wait.cause === 'gc')!;
  assert.ok(placed.from !== undefined && start + placed.from >= pause.start - 0.05 && start + placed.from + placed.ms <= pause.end + 0.05,
    `the gc wait lies at ${placed.from} ms from the move's start, the collection ${(pause.start - start).toFixed(2)}–${(pause.end - start).toFixed(2)}`);
});

test('no more gc than the host busy it comes out of; none for a move the collection missed', async () => {
  const waits = new CollectionWaits(() => []);
  const start = performance.now();
  const pause = collect();
  const end = performance.now();
  const short = upload(end - start, [{ cause: 'host-busy', ms: 0.5, device: 'gpu:0', earlierCells: [] }, { cause: 'gpu-work', ms: end - start - 0.6, device: 'gpu:0', earlierCells: [] }]);
  const before = upload(1, [{ cause: 'host-busy', ms: 0.9, device: 'gpu:0', earlierCells: [] }]);
  await waits.name([{ move: short, start }, { move: before, start: pause.start - 5 }]);
  // The GPU's work filled all of the move but 0.6 ms: of the collection, what lies beyond it is sure, and at most the 0.5 ms of host busy.
  // The test's clock around the collection also holds the call into it, which V8's pause does not:
  // 0.06 ms once on two busy cores (CI), so the lower bound leaves 0.2 ms for it.
  const sure = Math.min(0.5, pause.end - pause.start - (end - start - 0.6));
  assert.ok(partOf(short, 'gc') <= sure + 1e-6 && partOf(short, 'gc') >= sure - 0.2, `gc ${partOf(short, 'gc')} ms, sure of ${sure.toFixed(3)} ms of the 0.5 ms of host busy`);
  assert.ok(Math.abs(partOf(short, 'host-busy') + partOf(short, 'gc') - 0.5) < 1e-6, 'host busy and gc are the 0.5 ms');
  assert.equal(partOf(short, 'gpu-work'), end - start - 0.6, 'the GPU\'s part is not touched');
  assert.equal(partOf(before, 'gc'), 0, 'a move that ended before the collection met none');
});

test('a collection inside the kernel\'s own work comes out of tsgpu overhead; inside a write on the thread, out of the copy', async () => {
  let kernelWork = { start: 0, end: 0 };
  const working = new CollectionWaits((span) => [{ start: Math.max(span.start, kernelWork.start), end: Math.min(span.end, kernelWork.end) }]);
  const waits = new CollectionWaits(() => []);
  const reading = new CollectionWaits(() => []);
  const start = performance.now();
  const pause = collect();
  const end = performance.now() + 1;
  kernelWork = { start: pause.start - 1, end: pause.end + 1 };
  const overhead = upload(end - start, [{ cause: 'tsgpu', ms: end - start - 0.1, device: 'gpu:0', earlierCells: [] }]);
  await working.name([{ move: overhead, start }]);
  const pauseMs = pause.end - pause.start;
  assert.ok(partOf(overhead, 'gc') >= 0.9 * pauseMs, `gc ${partOf(overhead, 'gc').toFixed(2)} of a ${pauseMs.toFixed(2)} ms collection: ${JSON.stringify(overhead.waits)}`);

  // A small upload whose write (its copy, on the thread) held the collection: the copy was the write, not the pause.
  const written = upload(end - start, [{ cause: 'tsgpu', ms: 0.05, device: 'gpu:0', earlierCells: [] }], end - start - 0.05);
  waits.copiedOnThreadBy(written);
  await waits.name([{ move: written, start }]);
  assert.ok(partOf(written, 'gc') >= 0.9 * pauseMs, `gc ${partOf(written, 'gc').toFixed(2)} of a ${pauseMs.toFixed(2)} ms collection in the write: ${JSON.stringify(written)}`);
  assert.ok(Math.abs(written.copyMs + written.waitMs - written.ms) < 1e-6 && written.copyMs <= end - start - 0.05 - 0.9 * pauseMs, `copy ${written.copyMs.toFixed(2)} ms still holds the pause`);
  // Another copy (a read's, the GPU copying meanwhile) keeps it.
  const read = upload(end - start, [{ cause: 'tsgpu', ms: 0.05, device: 'gpu:0', earlierCells: [] }], end - start - 0.05);
  await reading.name([{ move: read, start }]);
  assert.equal(partOf(read, 'gc'), 0);
});

test('moves held up by one collection together: the line counts it once, ahead of the host busy laid out in order', () => {
  const ledger = new TransferLedger();
  ledger.beginCell(0);
  // Three moves over 0–10 ms, each all host busy by the old rules, each with the same collection at 4–7 ms named.
  for (const at of [0, 0.5, 1]) {
    const ms = 10 - at;
    ledger.add({ ...upload(ms, [
      { cause: 'host-busy', ms: ms - 0.1 - 3, device: 'gpu:0', earlierCells: [] },
      { cause: 'gc', ms: 3, device: 'gpu:0', earlierCells: [], from: 4 - at },
    ]), at });
  }
  const { moves } = ledger.endCell(true);
  const [line] = summarizeTransfers(moves.map(({ cell: _cell, ...record }) => record));
  assert.ok(line !== undefined);
  const gcPart = line.waits.find((wait) => wait.cause === 'gc')?.ms ?? 0;
  assert.ok(Math.abs(gcPart - 3) < 1e-9, `one 3 ms collection shows as ${gcPart} ms: ${JSON.stringify(line.waits)}`);
  const parts = line.waits.reduce((sum, wait) => sum + wait.ms, 0);
  assert.ok(Math.abs(parts - line.waitMs) < 1e-9, `the parts (${JSON.stringify(line.waits)}) add up to the wait, ${line.waitMs} ms`);
});

test('a side that also waited for the GPU: only the collection\'s time beyond those waits is named; none where the kernel\'s work is no longer known', async () => {
  const waits = new CollectionWaits(() => []);
  const forgotten = new CollectionWaits(() => [], () => Number.POSITIVE_INFINITY);
  const start = performance.now();
  const pause = collect();
  const end = performance.now() + 1;
  const pauseMs = pause.end - pause.start;
  const gpuMs = pauseMs / 2;
  // The GPU's work may have run during any of the collection: half of it at most held nothing up.
  const read = () => upload(end - start, [
    { cause: 'gpu-work', ms: gpuMs, device: 'gpu:0', earlierCells: [] },
    { cause: 'host-busy', ms: end - start - 0.1 - gpuMs, device: 'gpu:0', earlierCells: [] },
  ]);
  const named = read();
  const unknown = read();
  await waits.name([{ move: named, start }]);
  await forgotten.name([{ move: unknown, start }]);
  // The test's clock holds the call into the collection too: the entry is a little shorter.
  assert.ok(partOf(named, 'gc') <= pauseMs - gpuMs + 0.01 && partOf(named, 'gc') >= 0.9 * pauseMs - gpuMs,
    `gc ${partOf(named, 'gc').toFixed(2)} ms, sure only of ${(pauseMs - gpuMs).toFixed(2)}: ${JSON.stringify(named.waits)}`);
  assert.equal(partOf(named, 'gpu-work'), gpuMs);
  assert.equal(partOf(unknown, 'gc'), 0, 'where the kernel\'s work is forgotten, what was tsgpu cannot be told: nothing named');
});
