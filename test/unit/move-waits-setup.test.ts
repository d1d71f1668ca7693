// A move's staging set-up against its chunks' copies, split at the cell's end once the GPU's
// times are in: set-up while a chunk of the move was still on the GPU is copy, and time counted as
// set-up is not counted again as host busy when a chunk was seen landing late. Times are made up
// on performance.now()'s scale; each case says what the move did.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MoveNotes } from '../../kernel/device/transfer/move-notes';
import { moveWaits, splitGpuWaits } from '../../kernel/device/timing/move-waits';
import { setupWhileCopyingMs } from '../../kernel/device/timing/hidden-setup';

const NO_QUEUE = { ms: 0, cells: [], fences: [] };

function notes(partial: Partial<MoveNotes>): MoveNotes {
  return { setup: [], setupAway: [], copies: [], sent: [], hostWork: [], bufferWaits: [], othersSetup: [], ...partial };
}

/** A move from 0 to 100 ms whose set-up (`staging`) was counted as its wait; split as the cell's end does. */
function splitMove(moveNotes: MoveNotes): { waitMs: number; copyMs: number; parts: Record<string, number> } {
  const staging = [...moveNotes.setup, ...moveNotes.othersSetup];
  const stagingMs = staging.reduce((sum, span) => sum + span.end - span.start, 0);
  const move = { waitMs: stagingMs, copyMs: 100 - stagingMs, waits: moveWaits('gpu:0', 2, NO_QUEUE, stagingMs, moveNotes, 0, 100, staging) };
  splitGpuWaits([move], new Map(), 2);
  const parts: Record<string, number> = {};
  for (const wait of move.waits) parts[wait.cause] = (parts[wait.cause] ?? 0) + wait.ms;
  assert.ok(Math.abs(move.waitMs + move.copyMs - 100) < 1e-9, `wait + copy is the move's time: ${JSON.stringify(move)}`);
  assert.ok(Math.abs(Object.values(parts).reduce((sum, ms) => sum + ms, 0) - move.waitMs) < 1e-9, `the waits add up to the wait: ${JSON.stringify(move)}`);
  return { waitMs: move.waitMs, copyMs: move.copyMs, parts };
}

test('a later chunk\'s buffer made while no chunk of the move was on the GPU stays set-up', () => {
  // Buffer 1 0–20, chunk 1 sent at 21 and landed at 25; buffer 2 30–60, chunk 2 sent at 61, landed at 70.
  const split = splitMove(notes({
    setup: [{ start: 0, end: 20 }, { start: 30, end: 60 }],
    sent: [{ submitted: 21, landed: { at: 25 } }, { submitted: 61, landed: { at: 70 } }],
  }));
  assert.deepEqual(split.parts, { 'staging-setup': 50 });
  assert.equal(split.copyMs, 50);
});

test('a buffer made while the move\'s first chunk was still on the GPU is copy', () => {
  // Chunk 1 sent at 21 landed at 50: buffer 2 (30–60) held the move up only from 50 to 60.
  const split = splitMove(notes({
    setup: [{ start: 0, end: 20 }, { start: 30, end: 60 }],
    sent: [{ submitted: 21, landed: { at: 50 } }, { submitted: 61, landed: { at: 70 } }],
  }));
  assert.deepEqual(split.parts, { 'staging-setup': 30 });
  assert.equal(split.copyMs, 70);
});

test('a chunk whose landing is not known claims nothing: the set-up stays whole', () => {
  const split = splitMove(notes({
    setup: [{ start: 0, end: 20 }, { start: 30, end: 60 }],
    sent: [{ submitted: 21, landed: { at: NaN } }, { submitted: 61, landed: null }],
  }));
  assert.deepEqual(split.parts, { 'staging-setup': 50 });
});

test('another move\'s buffer made on the thread after this move\'s chunk landed is set-up, not also host busy', () => {
  // One 1 MiB chunk sent at 5, landed at 8; another move made its buffer 10–60 before the thread
  // polled again (seen at 95): 10–60 is set-up, and only the rest of the time away is host busy.
  const split = splitMove(notes({
    othersSetup: [{ start: 10, end: 60 }],
    sent: [{ submitted: 5, landed: { at: 8 } }],
    copies: [{ landed: { at: 8 }, away: { from: 8, to: 95, working: [] } }],
  }));
  assert.equal(split.parts['staging-setup'], 50);
  assert.equal(split.parts['host-busy'], 37);
  assert.equal(split.copyMs, 13);
});

test('set-up while copying: time away during a mapped buffer is left to host busy', () => {
  assert.equal(setupWhileCopyingMs([{ start: 0, end: 40 }], [{ start: 10, end: 20 }], [{ submitted: 5, landed: { at: 30 } }]), 15);
});
