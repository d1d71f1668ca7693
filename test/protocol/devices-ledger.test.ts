// %transfers: every move between host and GPU with its exact size, cause, op, and the cell and
// line that made it; the last cell's moves, the session's (all), and reset.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertTransfer, countOf, movesIn, onlyMove, printed, runOk, transferLines, transferRows, useDeviceKernel, valueOf,
} from '../support/devices';

/** float32 [256]: 256 × 4 bytes. */
const FLOAT32_256 = 1024;

describe('transfer ledger', () => {
  const kernel = useDeviceKernel();

  test("`await x.to('gpu:0')` of a float32 [256] shows one H2D of exactly 1024 B, explicit, op `to`, with cell and line",
    async () => {
      await runOk(kernel(), 'const ledgerV = tf.randomNormal([256]);');
      const exchange = await runOk(kernel(), "const ledgerNote = 'line one';\nawait ledgerV.to('gpu:0');\nledgerV.device");
      const transfers = await printed(kernel(), '%transfers');
      assertTransfer(onlyMove(transfers), { direction: 'H2D', bytes: FLOAT32_256, cause: 'explicit', op: 'to', cell: countOf(exchange), line: 2 },
        transfers);
    });

  test('`await x.data()` of a float32 [256] on gpu:0 shows one D2H of exactly 1024 B, explicit, op `data`', async () => {
    await runOk(kernel(), "const ledgerRead = await tf.randomNormal([256]).to('gpu:0');");
    const exchange = await runOk(kernel(), 'const readNote = 0;\nconst ledgerValues = await ledgerRead.data();\nledgerValues.length');
    const transfers = await printed(kernel(), '%transfers');
    assertTransfer(onlyMove(transfers), { direction: 'D2H', bytes: FLOAT32_256, cause: 'explicit', op: 'data', cell: countOf(exchange), line: 2 },
      transfers);
  });

  test('`await x.cpu()` of a float32 [256] on gpu:0 shows one D2H of exactly 1024 B, explicit, op `cpu`', async () => {
    await runOk(kernel(), "const ledgerBack = await tf.randomNormal([256]).to('gpu:0');");
    const exchange = await runOk(kernel(), 'await ledgerBack.cpu();\nledgerBack.device');
    const transfers = await printed(kernel(), '%transfers');
    assertTransfer(onlyMove(transfers), { direction: 'D2H', bytes: FLOAT32_256, cause: 'explicit', op: 'cpu', cell: countOf(exchange), line: 1 },
      transfers);
  });

  test('a float32 [3, 100] tensor moves as exactly 1200 B', async () => {
    const exchange = await runOk(kernel(), "const odd = tf.zeros([3, 100]);\nawait odd.to('gpu:0');\nodd.device");
    const transfers = await printed(kernel(), '%transfers');
    assertTransfer(onlyMove(transfers), { direction: 'H2D', bytes: 1200, cause: 'explicit', op: 'to', cell: countOf(exchange), line: 2 }, transfers);
  });

  test('ops on gpu:0 inputs move nothing: %transfers lists no move for that cell', async () => {
    await runOk(kernel(), "const stays = await tf.ones([8]).to('gpu:0');");
    assert.equal(await valueOf(kernel(), 'const staysResult = stays.add(stays).mul(stays);\nstaysResult.device'), "'gpu:0'");
    const transfers = await printed(kernel(), '%transfers');
    assert.deepEqual(transferLines(transfers), [], transfers);
  });

  test('%transfers shows the last cell that touched tensors: a cell without tensors in between changes nothing', async () => {
    await runOk(kernel(), 'const lastTouched = tf.ones([256]);');
    const exchange = await runOk(kernel(), "await lastTouched.to('gpu:0');");
    assert.equal(await valueOf(kernel(), "'no tensors here'.length"), '15');
    const transfers = await printed(kernel(), '%transfers');
    assertTransfer(onlyMove(transfers),
      { direction: 'H2D', bytes: FLOAT32_256, cause: 'explicit', op: 'to', cell: countOf(exchange), line: 1, exact: false }, transfers);
  });

  test('`%transfers all` lists every cell\'s moves in order and `%transfers reset` clears them', async () => {
    await printed(kernel(), '%transfers reset');
    await runOk(kernel(), 'const roundTrip = tf.ones([256]);');
    const there = await runOk(kernel(), "await roundTrip.to('gpu:0');");
    const back = await runOk(kernel(), 'await roundTrip.cpu();');
    const all = await printed(kernel(), '%transfers all');
    const rows = transferRows(all);
    assert.equal(movesIn(rows), 2, `two moves since the reset expected:\n${all}`);
    assertTransfer(rows[0]?.text,
      { direction: 'H2D', bytes: FLOAT32_256, cause: 'explicit', op: 'to', cell: countOf(there), line: 1, exact: false }, all);
    assertTransfer(rows[1]?.text,
      { direction: 'D2H', bytes: FLOAT32_256, cause: 'explicit', op: 'cpu', cell: countOf(back), line: 1, exact: false }, all);
    await printed(kernel(), '%transfers reset');
    const afterReset = await printed(kernel(), '%transfers all');
    assert.deepEqual(transferLines(afterReset), [], afterReset);
    const lastAfterReset = await printed(kernel(), '%transfers');
    assert.deepEqual(transferLines(lastAfterReset), [], lastAfterReset);
  });
});
