// %transfers as the truth about a cell's moves: its time is the wall-clock time the moves took
// (reads awaited together once, as the cell's report line counts them), and a tensor a user's fit
// callback makes is credited to the callback's own line, as the user's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { parseTextTable, transferRows } from '../support/devices';
import { printedNumber } from '../support/gpu-cell';
import { copySpan, countOf, type ReportTransfer, runOk, theReport, useReportKernel } from '../support/report';

/** Time covered by intervals, overlaps once: the test's own union, apart from the kernel's. */
function covered(intervals: { start: number; end: number }[]): number {
  let total = 0;
  let stretch: { start: number; end: number } | null = null;
  for (const { start, end } of [...intervals].sort((a, b) => a.start - b.start)) {
    if (stretch === null || start > stretch.end) {
      if (stretch !== null) total += stretch.end - stretch.start;
      stretch = { start, end };
    } else stretch.end = Math.max(stretch.end, end);
  }
  return total + (stretch === null ? 0 : stretch.end - stretch.start);
}

function timed(moves: ReportTransfer[]): ReportTransfer[] {
  return moves.filter((move) => move.untimed !== true);
}

/** `N transfers, <size>, <ms> ms wall-clock (copy <ms>, wait <ms>; …)`: the footer's figures (the split undefined when not shown). */
function footerOf(listing: string): { ms: number; copyMs: number | undefined; waitMs: number | undefined } {
  const match = /^\d+ transfers, [^,]+, ([\d.]+) ms\b(?: wall-clock \(copy ([\d.]+), wait ([\d.]+);)?/m.exec(listing);
  assert.ok(match !== null, `no "N transfers, size, X ms …" footer:\n${listing}`);
  const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));
  return { ms: Number(match[1]), copyMs: number(match[2]), waitMs: number(match[3]) };
}

/** A %transfers column of the row whose text matches `row`, as a number. */
function column(listing: string, row: RegExp, title: string): number {
  const table = parseTextTable(listing);
  assert.ok(table !== undefined, `%transfers printed no table:\n${listing}`);
  const index = table.header.indexOf(title);
  const found = table.rows.find(({ line }) => row.test(line));
  assert.ok(index >= 0 && found !== undefined, `no row matching ${row} with a "${title}" column:\n${listing}`);
  return Number(found.cells[index]);
}

describe('%transfers: wall-clock time, and the user\'s own lines inside a library call', () => {
  const kernel = useReportKernel();

  test('four reads awaited together behind queued work: the total and the row are the time that passed, not four times it', async () => {
    // 256 KiB each (a GB/s is shown), their staging buffers set up here, so the next cell only waits and copies.
    await runOk(kernel(), [
      '%device gpu:0',
      'const big = tf.randomNormal([512, 512]);',
      'const xs = [1, 2, 3, 4].map((k) => tf.mul(tf.randomNormal([65536]), k));',
      'await Promise.all(xs.map((x) => x.data()));',
    ].join('\n'));
    const exchange = await runOk(kernel(), [
      'const started = performance.now();',
      'let acc = big;',
      'for (let i = 0; i < 6; i++) acc = tf.matMul(acc, big);',
      'const ys = xs.map((x) => tf.add(x, tf.sum(acc)));',
      'await Promise.all(ys.map((y) => y.data()));',
      'console.log(`elapsed ${(performance.now() - started).toFixed(3)}`);',
    ].join('\n'));
    const elapsed = printedNumber(streamText(exchange, 'stdout'), 'elapsed');
    const moves = timed(theReport(exchange).meta.transfers);
    const reads = moves.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 4, `four reads: ${JSON.stringify(moves)}`);
    const summed = reads.reduce((sum, move) => sum + move.ms, 0);
    // Otherwise this cell would not test overlapping moves at all.
    assert.ok(summed > 1.5 * elapsed, `the reads overlap: their times sum to ${summed.toFixed(1)} ms in a cell that measured ${elapsed.toFixed(1)} ms`);

    const listing = streamText(await runOk(kernel(), '%transfers'), 'stdout');
    const footer = footerOf(listing);
    // Every timed move lies between the cell's two performance.now() (1 ms for the clocks' reading).
    assert.ok(footer.ms <= elapsed + 1, `the total ${footer.ms} ms is at most the ${elapsed} ms the cell measured around its moves:\n${listing}`);
    const union = covered(moves.map((move) => ({ start: move.at, end: move.at + move.ms })));
    const copies = covered(moves.map(copySpan));
    assert.ok(Math.abs(footer.ms - union) < 0.002, `the total is the union of the moves' intervals in metadata.tsgpu (${union.toFixed(3)} ms):\n${listing}`);
    assert.ok(footer.copyMs !== undefined && footer.waitMs !== undefined, `the total says it is wall-clock time, and splits it into copy and wait:\n${listing}`);
    assert.ok(Math.abs(footer.copyMs - copies) < 0.002, `copy is the union of their copies (${copies.toFixed(3)} ms):\n${listing}`);
    assert.ok(Math.abs(footer.waitMs - (union - copies)) < 0.003, `wait is the rest (${(union - copies).toFixed(3)} ms):\n${listing}`);

    const readRow = /^D2H\b.*\bdata\b/;
    const rowMs = column(listing, readRow, 'ms');
    assert.ok(rowMs <= elapsed + 1, `the reads' row says ${rowMs} ms, the cell measured ${elapsed} ms:\n${listing}`);
    const readCopies = covered(reads.map(copySpan));
    const bytes = reads.reduce((sum, move) => sum + move.bytes, 0);
    assert.equal(bytes, 4 * 65536 * 4);
    const rate = bytes / readCopies / 1e6;
    const shownRate = column(listing, readRow, 'GB/s');
    assert.ok(Math.abs(shownRate - rate) <= Math.max(0.0005, 0.01 * rate), `GB/s is bytes over the union of the copies: ${rate.toFixed(4)}, shown ${shownRate}:\n${listing}`);
  });

  test('a tensor made in a fit callback the user wrote: its upload is credited to the callback\'s line, by the user, as when called directly', async () => {
    const definition = [
      '%device gpu:0',
      'const m = tf.sequential();',
      "m.add(tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));",
      "m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });",
      "const X = tf.randomNormal([32, 4], 0, 1, 'float32', 2);",
      "const Y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3).toFloat();",
      "await X.to('gpu:0'); await Y.to('gpu:0'); await m.to('gpu:0');",
      'const seen: number[] = [];',
      'async function onBatchEnd() {',
      '  const mine = tf.tensor1d(Array.from({ length: 2048 }, (_, i) => i));',
      '  const s = mine.sum();',
      '  seen.push((await s.data())[0]!);',
      '  tf.dispose([mine, s]);',
      '}',
    ];
    const defined = countOf(await runOk(kernel(), definition.join('\n')));
    const made = definition.findIndex((line) => line.includes('tf.tensor1d(Array.from({ length: 2048 }')) + 1;
    const read = definition.findIndex((line) => line.includes('await s.data()')) + 1;
    const mine = (move: ReportTransfer): boolean => move.direction === 'H2D' && move.bytes === 2048 * 4;

    const fit = theReport(await runOk(kernel(), "await m.fit(X, Y, { epochs: 1, batchSize: 8, verbose: 0, callbacks: { onBatchEnd } });"));
    const uploads = fit.meta.transfers.filter(mine);
    assert.equal(uploads.length, 4, `one 8 KiB upload per batch: ${JSON.stringify(fit.meta.transfers)}`);
    for (const upload of uploads) {
      assert.deepEqual({ cell: upload.cell, line: upload.line, by: upload.via.by }, { cell: defined, line: made, by: 'user' },
        `the callback's tensor is credited to cell ${defined}, line ${made}, by the user: ${JSON.stringify(upload)}`);
    }
    const reads = fit.meta.transfers.filter((move) => move.direction === 'D2H' && move.bytes === 4 && move.cell === defined);
    assert.deepEqual(reads.map((move) => move.line), [read, read, read, read], `the callback's reads at its own line: ${JSON.stringify(fit.meta.transfers)}`);
    const listing = streamText(await runOk(kernel(), '%transfers'), 'stdout');
    const row = transferRows(listing).find((entry) => /^H2D\b/.test(entry.text) && entry.bytes?.bytes === 4 * 2048 * 4);
    assert.ok(row !== undefined && row.text.includes(`cell ${defined}, line ${made}`), `%transfers lists the four uploads at cell ${defined}, line ${made}:\n${listing}`);

    const direct = theReport(await runOk(kernel(), 'await onBatchEnd();'));
    const [alone] = direct.meta.transfers.filter(mine);
    assert.ok(alone !== undefined, `called directly, it uploads 8 KiB too: ${JSON.stringify(direct.meta.transfers)}`);
    assert.deepEqual({ cell: alone.cell, line: alone.line, by: alone.via.by }, { cell: defined, line: made, by: 'user' });
  });
});
