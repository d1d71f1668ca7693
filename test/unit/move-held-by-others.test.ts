// A move's copy held up by other moves: its own copy queued behind their chunk copies on the GPU
// (GPU work of their cell), the thread copying their chunks into host memory (host busy), and the
// rest of a wait for a staging buffer they held (their chunk's round trip: queue latency). A 4-byte
// read behind a 64 MiB read showed 'copy 16–40 ms' of reads of 210–290 ms, its own copy taking
// under 1 ms. Times are made up on performance.now()'s clock, as the GPU clock maps them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MoveWait } from '../../kernel/device/device-control';
import { moveWaits, splitGpuWaits } from '../../kernel/device/timing/move-waits';
import { noteTransferWork } from '../../kernel/device/timing/host-away';
import { type GpuLanding, type MoveNotes, notingMove, stampedCopy } from '../../kernel/device/transfer/move-notes';

const noEncoder = { beginComputePass: () => ({ end: () => undefined }) };

function msOf(waits: MoveWait[], cause: MoveWait['cause']): number {
  return waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 0.05, `${what}: ${actual} vs ${expected}`);
}

test('a read whose copy waited for a buffer another read held, and queued behind its chunk: GPU work, host busy and latency, not copy', async () => {
  // Cell 3's big read submits a chunk copy (stamped: it lands at t0 + 30 by the GPU's clock).
  const landing: GpuLanding = { at: Number.NaN };
  let t0 = 0;
  await notingMove((_encoder, record) => {
    record();
    return landing;
  }, async () => {
    t0 = performance.now();
    stampedCopy(noEncoder, () => undefined, 8 * 2 ** 20);
  }, { cell: 3, device: 'gpu:0' });
  landing.at = t0 + 30;
  // The thread copies that chunk into host memory from t0 + 31 to t0 + 39, then gives its buffer back.
  noteTransferWork(t0 + 31, t0 + 39);
  // Cell 4's 4-byte read: its copy from t0 + 1 (its fence ended) to t0 + 60; it waited for a buffer
  // from t0 + 5 to t0 + 40, and submitted its own copy at t0 + 40.
  const notes: MoveNotes = {
    setup: [], setupAway: [], copies: [], othersSetup: [], hostWork: [{ start: t0 + 59, end: t0 + 59.5 }],
    sent: [{ submitted: t0 + 40, landed: null }], bufferWaits: [{ start: t0 + 5, end: t0 + 40 }],
  };
  const move = { waitMs: 0, copyMs: 59, waits: moveWaits('gpu:0', 4, { ms: 0, cells: [], fences: [] }, 0, notes, t0 + 1, t0 + 60) };
  splitGpuWaits([move], new Map([['gpu:0', { intervals: [], clock: { source: 'timestamps' as const } }]]), 4);
  const waits = move.waits;
  near(msOf(waits, 'gpu-work'), 29, 'GPU work: the chunk ahead on the GPU from t0 + 1 to its landing');
  assert.deepEqual(waits.find((wait) => wait.cause === 'gpu-work')?.earlierCells, [3], 'named for the cell whose chunk it was');
  near(msOf(waits, 'host-busy'), 8, 'host busy: the thread copying the chunk');
  near(msOf(waits, 'gpu-latency'), 2, 'queue latency: the rest of the wait for the buffer');
  near(move.copyMs, 20, 'copy: from the buffer in hand to the end');
  near(move.waitMs + move.copyMs, 59, 'wait + copy is the move');
  near(waits.reduce((sum, wait) => sum + wait.ms, 0), move.waitMs, 'the waits add up to the wait');
});

test('on the fenced clock no landing is known: only the thread copying other moves\' chunks is taken from the copy', async () => {
  const t0 = performance.now() + 1000;
  noteTransferWork(t0 + 10, t0 + 20);
  const notes: MoveNotes = {
    setup: [], setupAway: [], copies: [], othersSetup: [], hostWork: [], sent: [{ submitted: t0 + 30, landed: null }], bufferWaits: [],
  };
  const move = { waitMs: 0, copyMs: 40, waits: moveWaits('gpu:0', 4, { ms: 0, cells: [], fences: [] }, 0, notes, t0, t0 + 40) };
  splitGpuWaits([move], new Map([['gpu:0', { intervals: [], clock: { source: 'fenced' as const } }]]), 4);
  near(msOf(move.waits, 'host-busy'), 10, 'host busy');
  near(msOf(move.waits, 'gpu-work'), 0, 'GPU work');
  near(move.copyMs, 30, 'copy');
});
