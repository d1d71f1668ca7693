// A read's wait for GPU work split by the GPU's own times: GPU work is never longer than the
// passes the GPU's timestamps show running inside the wait; the rest of the fence's round trip is
// the queue's latency, and the parts always add up to the wait. Fences and GPU times are made up
// here on performance.now()'s clock, as the GPU clock maps them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MoveWait } from '../../kernel/device/device-control';
import type { GpuInterval, GpuTimeSource } from '../../kernel/device/timing/gpu-clock';
import { moveWaits, splitGpuWaits } from '../../kernel/device/timing/move-waits';
import type { Fence, QueueWait } from '../../kernel/device/timing/queue-wait';
import { waitText } from '../../kernel/display/report/wording';

/** A fence the host saw end at once (no time away), covering tfjs's submits up to `submitted`. */
function fence(start: number, end: number, submitted: number): Fence {
  return { start, end, away: { from: end, to: end, working: [] }, submitted };
}

function pass(start: number, end: number, cell: number, submit: number): GpuInterval {
  return { start, end, cell, label: null, submit };
}

/** The waits of one read in cell `cell` after the split, with what the fences and times say. */
function split(cell: number, fences: Fence[], intervals: GpuInterval[], options: { cells?: number[]; source?: GpuTimeSource } = {}): MoveWait[] {
  const ms = fences.at(-1)!.end - fences[0]!.start;
  const queued: QueueWait = { ms, cells: options.cells ?? [cell], fences };
  const move = { waitMs: ms, copyMs: 0.05, waits: moveWaits('gpu:0', cell, queued, 0) };
  splitGpuWaits([move], new Map([['gpu:0', { intervals, clock: { source: options.source ?? 'timestamps' } }]]), cell);
  const parts = move.waits.reduce((sum, wait) => sum + wait.ms, 0);
  assert.ok(Math.abs(parts - ms) < 1e-9, `the parts add up to the wait: ${parts} vs ${ms}: ${JSON.stringify(move.waits)}`);
  return move.waits;
}

function msOf(waits: MoveWait[], cause: MoveWait['cause'], earlier?: boolean): number {
  return waits.filter((wait) => wait.cause === cause && (earlier === undefined || (wait.earlierCells.length > 0) === earlier)).reduce((sum, wait) => sum + wait.ms, 0);
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);
}

describe('move waits: GPU work within the GPU\'s times, the rest the queue\'s latency', () => {
  test('a tiny read: 0.1 ms of its own pass in a 0.4 ms fence is 0.1 ms GPU work and 0.3 ms queue latency', () => {
    const waits = split(2, [fence(100, 100.4, 7)], [pass(100.1, 100.2, 2, 7)]);
    near(msOf(waits, 'gpu-work'), 0.1, 'GPU work');
    near(msOf(waits, 'gpu-latency'), 0.3, 'queue latency');
    assert.equal(waitText({ waitMs: 0.4, waits } as Parameters<typeof waitText>[0]), '100 µs gpu:0 GPU work + 300 µs gpu:0 queue latency');
  });

  test('only the part of a pass inside the wait counts: the work ran partly before the fence began', () => {
    const waits = split(2, [fence(100, 100.4, 7)], [pass(99.8, 100.15, 2, 7)]);
    near(msOf(waits, 'gpu-work'), 0.15, 'GPU work');
    near(msOf(waits, 'gpu-latency'), 0.25, 'queue latency');
  });

  test('passes of submits the fence does not cover (queued after it began) are not what it waited for', () => {
    const waits = split(2, [fence(100, 101, 7)], [pass(100.1, 100.3, 2, 7), pass(100.3, 100.9, 2, 8)]);
    near(msOf(waits, 'gpu-work'), 0.2, 'GPU work');
    near(msOf(waits, 'gpu-latency'), 0.8, 'queue latency');
  });

  test('overlapping passes count once', () => {
    const waits = split(2, [fence(100, 101, 7)], [pass(100.1, 100.5, 2, 6), pass(100.3, 100.6, 2, 7)]);
    near(msOf(waits, 'gpu-work'), 0.5, 'GPU work');
  });

  test('a long wait whose passes fill it stays GPU work', () => {
    const waits = split(2, [fence(100, 500, 7)], [pass(100.2, 499.7, 2, 7)]);
    near(msOf(waits, 'gpu-work'), 399.5, 'GPU work');
    near(msOf(waits, 'gpu-latency'), 0.5, 'queue latency');
  });

  test('earlier cells\' work, then the cell\'s own: each part within its passes, the earlier cell named for its own only', () => {
    const waits = split(3, [fence(100, 106, 9)], [pass(99, 104, 1, 8), pass(104.2, 105.2, 3, 9)], { cells: [1, 3] });
    near(msOf(waits, 'gpu-work', true), 4, 'GPU work queued by cell 1');
    assert.deepEqual(waits.filter((wait) => wait.earlierCells.length > 0).map((wait) => wait.earlierCells), [[1]]);
    near(msOf(waits, 'gpu-work', false), 1, 'the cell\'s own GPU work');
    near(msOf(waits, 'gpu-latency'), 1, 'queue latency');
  });

  test('a cell with no work of its own waiting for an earlier cell\'s: the fence seen after that work is latency, not the cell\'s own work', () => {
    const waits = split(3, [fence(100, 103, 9)], [pass(99, 102, 1, 9)], { cells: [1] });
    near(msOf(waits, 'gpu-work', true), 2, 'GPU work queued by cell 1');
    near(msOf(waits, 'gpu-work', false), 0, 'the cell\'s own GPU work');
    near(msOf(waits, 'gpu-latency'), 1, 'queue latency');
  });

  test('several fences: each counts the passes of the submits it covers', () => {
    const waits = split(2, [fence(100, 100.5, 7), fence(100.5, 101, 8)], [pass(100.1, 100.2, 2, 7), pass(100.6, 100.8, 2, 8)]);
    near(msOf(waits, 'gpu-work'), 0.3, 'GPU work');
    near(msOf(waits, 'gpu-latency'), 0.7, 'queue latency');
  });

  test('time the host was away stays host busy; GPU work and latency share the rest', () => {
    const away: Fence = { start: 100, end: 150, away: { from: 100.5, to: 149.9, working: [] }, submitted: 7 };
    const waits = split(2, [away], [pass(100.1, 100.3, 2, 7)]);
    near(msOf(waits, 'host-busy'), 49.4, 'host busy');
    near(msOf(waits, 'gpu-work'), 0.2, 'GPU work');
    near(msOf(waits, 'gpu-latency'), 0.4, 'queue latency');
  });

  test('fenced times (idle gaps included, labelled so) leave the wait whole', () => {
    assert.deepEqual(split(2, [fence(100, 100.4, 7)], [pass(100, 100.4, 2, 7)], { source: 'fenced' }).map((wait) => wait.cause), ['gpu-work']);
  });
  test('staging set-up that ran in the fence while no pass ran held it up: set-up, not queue latency', () => {
    // A read's fence on a GPU whose work was done, out while the read's new readback buffer was first mapped (lavapipe backs it then).
    const queued: QueueWait = { ms: 100, cells: [2], fences: [fence(100, 200, 7)] };
    const move = { waitMs: 100, copyMs: 1, waits: moveWaits('gpu:0', 2, queued, 0, undefined, 0, 0, [], [{ start: 105, end: 180 }]) };
    splitGpuWaits([move], new Map([['gpu:0', { intervals: [pass(100, 110, 2, 7)], clock: { source: 'timestamps' as const } }]]), 2);
    near(move.waits.reduce((sum, wait) => sum + wait.ms, 0), 100, 'the parts add up to the wait');
    near(msOf(move.waits, 'gpu-work'), 10, 'GPU work (its pass)');
    near(msOf(move.waits, 'staging-setup'), 70, 'set-up outside the pass');
    near(msOf(move.waits, 'gpu-latency'), 20, 'queue latency');
    // Fenced (no pass times): the wait stays whole, as before.
    const fenced = { waitMs: 100, copyMs: 1, waits: moveWaits('gpu:0', 2, { ...queued }, 0, undefined, 0, 0, [], [{ start: 105, end: 180 }]) };
    splitGpuWaits([fenced], new Map([['gpu:0', { intervals: [], clock: { source: 'fenced' as const } }]]), 2);
    near(msOf(fenced.waits, 'gpu-work'), 100, 'fenced: whole');
  });
});
