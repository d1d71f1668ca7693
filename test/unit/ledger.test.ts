// The transfer ledger stays bounded: a loop of 200,000 moves keeps memory flat, older moves fold
// into one line per place and kind, and nothing is lost from the totals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TransferRecord } from '../../kernel/device/device-control';
import { TransferLedger } from '../../kernel/device/ledger';

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
