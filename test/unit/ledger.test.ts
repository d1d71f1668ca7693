// The transfer ledger stays bounded: a loop of 200,000 moves keeps memory flat, older moves fold
// into one line per place and kind, and nothing is lost from the totals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TransferRecord } from '../../kernel/device/device-control';
import { TransferLedger } from '../../kernel/device/ledger';
import { summarizeTransfers } from '../../kernel/display/report/cell-report';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function move(index: number, line: number): TransferRecord {
  return {
    direction: index % 2 === 0 ? 'H2D' : 'D2H', from: index % 2 === 0 ? 'cpu' : 'gpu:0', to: index % 2 === 0 ? 'gpu:0' : 'cpu',
    bytes: 4 + (index % 3), ms: 0.05, waitMs: 0.01, copyMs: 0.04, waits: [], cause: 'explicit', operation: 'to', cell: 1, line, at: index * 0.05, scalar: false,
    via: { by: 'user', call: 'to', invocation: index }, inLoop: true, reverses: null,
  };
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('200,000 moves in one cell: memory flat after the first 50,000, every move counted once', () => {
  const ledger = new TransferLedger();
  ledger.beginCell();
  let expectedBytes = 0;
  let heapAt50k = 0;
  for (let i = 0; i < 200_000; i++) {
    const record = move(i, 1 + (i % 4));
    expectedBytes += record.bytes;
    ledger.add(record);
    if (i === 49_999) heapAt50k = heapAfterGc();
  }
  const heapAt200k = heapAfterGc();
  // Kept records are bounded (at most 20,000, ~5 MB): 150,000 more moves may not grow the heap by more than a few MB.
  assert.ok(heapAt200k - heapAt50k < 4 * 2 ** 20, `heap grew ${((heapAt200k - heapAt50k) / 2 ** 20).toFixed(1)} MiB between 50,000 and 200,000 moves`);
  const { moves, folded } = ledger.endCell(true);
  const listed = moves.length + folded.reduce((sum, group) => sum + group.count, 0);
  assert.equal(listed, 200_000, 'every move is either kept or folded');
  assert.ok(moves.length <= 20_000, `at most 20,000 kept one by one (${moves.length})`);
  assert.ok(folded.length <= 8, `folded into one line per direction and line (${folded.length})`);
  const bytes = moves.reduce((sum, record) => sum + record.bytes, 0) + folded.reduce((sum, group) => sum + group.bytes, 0);
  assert.equal(bytes, expectedBytes, 'bytes exact');
  assert.equal(ledger.totals().count, 200_000);
  const all = ledger.all();
  assert.equal(all.foldedCount + all.moves.length, 200_000, '%transfers all can say how many were folded');
});

test('moves of earlier cells fold too; the last cell keeps its own', () => {
  const ledger = new TransferLedger();
  ledger.beginCell();
  for (let i = 0; i < 30_000; i++) ledger.add({ ...move(i, 1), cell: 1 });
  ledger.endCell(true);
  ledger.beginCell();
  for (let i = 0; i < 3; i++) ledger.add({ ...move(i, 7), cell: 2 });
  const { moves, folded } = ledger.endCell(true);
  assert.deepEqual(moves.map((record) => record.line), [7, 7, 7]);
  assert.deepEqual(folded, []);
  assert.ok(ledger.all().foldedCount >= 10_000);
});

test('%transfers\' time is wall-clock: four reads awaited together count once, in the total and in their row', () => {
  const ledger = new TransferLedger();
  ledger.beginCell(5_000);
  // Started together, each waited 90 ms for the same GPU work, then copied 10 ms, one after another.
  for (let i = 0; i < 4; i++) ledger.add({ ...move(1, 3), at: 0, ms: 90 + 10 * (i + 1), waitMs: 90 + 10 * i, copyMs: 10 });
  ledger.endCell(true);
  const { rows, time } = ledger.listing('last');
  assert.deepEqual(time, { ms: 130, copyMs: 40, waitMs: 90 }, 'from the first start to the last end; copying 90–130 ms');
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0]!.count, rows[0]!.ms, rows[0]!.copyMs, rows[0]!.waitMs], [4, 130, 40, 90]);
});

test('%transfers all: moves of two cells, each timed from its own cell\'s start, on one clock', () => {
  const ledger = new TransferLedger();
  ledger.beginCell(1_000);
  ledger.add({ ...move(1, 1), at: 0, ms: 10, waitMs: 0, copyMs: 10 });
  ledger.endCell(true);
  ledger.beginCell(2_000);
  ledger.add({ ...move(1, 2), cell: 2, at: 0, ms: 10, waitMs: 0, copyMs: 10 });
  ledger.endCell(true);
  assert.equal(ledger.listing('all').time.ms, 20, 'the same `at` in two cells is two different moments');
  assert.equal(ledger.listing('last').time.ms, 10);
});

test('30,000 overlapping moves, most folded: the time is still their union, never more', () => {
  const ledger = new TransferLedger();
  ledger.beginCell(0);
  // Each starts 0.05 ms after the one before and lasts 0.1 ms: together one stretch.
  for (let i = 0; i < 30_000; i++) ledger.add({ ...move(1, 1 + (i % 2)), at: i * 0.05, ms: 0.1, waitMs: 0.04, copyMs: 0.06 });
  ledger.endCell(true);
  const span = 29_999 * 0.05 + 0.1;
  for (const scope of ['last', 'all'] as const) {
    const listing = ledger.listing(scope);
    assert.ok(listing.foldedCount > 0, 'some were folded');
    assert.ok(Math.abs(listing.time.ms - span) < 1e-6, `${scope}: ${listing.time.ms} ms, their union is ${span} ms`);
    assert.equal(listing.rows.reduce((sum, row) => sum + row.count, 0), 30_000);
    // Each line's moves are 0.1 ms apart and last 0.1 ms: one stretch too.
    for (const row of listing.rows) assert.ok(row.ms <= span + 1e-6 && row.ms > span - 0.2, `${scope}, line ${row.line}: ${row.ms} ms`);
  }
});

test('30,000 overlapping moves, most folded: the report line counts them as %transfers does, their waits split by cause', () => {
  const ledger = new TransferLedger();
  ledger.beginCell(1_000);
  // Pairs started together (a Promise.all): each waits 0.04 ms for GPU work, then copies 0.06 ms; pairs 0.2 ms apart.
  for (let i = 0; i < 30_000; i++) {
    const at = Math.floor(i / 2) * 0.2;
    ledger.add({ ...move(1, 1), at, ms: 0.1, waitMs: 0.04, copyMs: 0.06, waits: [{ cause: 'gpu-work', device: 'gpu:0', ms: 0.04, earlierCells: [] }] });
  }
  const { moves, folded, foldedTime } = ledger.endCell(true);
  assert.ok(folded.length > 0 && foldedTime.length === 1, 'some were folded');
  const [line] = summarizeTransfers(moves.map(({ cell: _cell, ...record }) => record), folded.map(({ cell: _cell, ...group }) => group), foldedTime);
  const { time } = ledger.listing('last');
  // 15,000 pairs, each 0.1 ms of which 0.06 copying: what the cell really spent.
  assert.ok(Math.abs(time.ms - 1_500) < 1e-6 && Math.abs(time.copyMs - 900) < 1e-6, `%transfers: ${JSON.stringify(time)}`);
  assert.ok(line !== undefined && line.count === 30_000);
  assert.ok(Math.abs(line.ms - time.ms) < 1e-6 && Math.abs(line.copyMs - time.copyMs) < 1e-6 && Math.abs(line.waitMs - time.waitMs) < 1e-6,
    `the line: ${line.ms} ms (copy ${line.copyMs}, wait ${line.waitMs}); %transfers ${JSON.stringify(time)}`);
  assert.equal(line.waits.length, 1);
  assert.ok(Math.abs(line.waits[0]!.ms - line.waitMs) < 1e-6, `the one cause is the whole wait: ${JSON.stringify(line.waits)}`);
});

test('two moves awaited together, one waiting on GPU work while the other\'s thread was elsewhere: the wait\'s parts count the overlap once', () => {
  const ledger = new TransferLedger();
  ledger.beginCell(0);
  // 0–10 ms: the first waits for GPU work, then copies to 12; the second is held up by the host 4–12, then copies to 14.
  ledger.add({ ...move(1, 1), at: 0, ms: 12, waitMs: 10, copyMs: 2, waits: [{ cause: 'gpu-work', device: 'gpu:0', ms: 10, earlierCells: [] }] });
  ledger.add({ ...move(1, 1), at: 4, ms: 10, waitMs: 8, copyMs: 2, waits: [{ cause: 'host-busy', device: 'gpu:0', ms: 8, earlierCells: [] }] });
  const { moves, folded, foldedTime } = ledger.endCell(true);
  const [line] = summarizeTransfers(moves.map(({ cell: _cell, ...record }) => record), folded.map(({ cell: _cell, ...group }) => group), foldedTime);
  assert.ok(line !== undefined);
  // 0–14 ms in all; copying 10–14; waiting 0–10.
  assert.deepEqual([line.ms, line.copyMs, line.waitMs], [14, 4, 10]);
  const parts = line.waits.reduce((sum, wait) => sum + wait.ms, 0);
  assert.ok(Math.abs(parts - line.waitMs) < 1e-9, `the parts (${JSON.stringify(line.waits)}) add up to the wait, ${line.waitMs} ms`);
});
