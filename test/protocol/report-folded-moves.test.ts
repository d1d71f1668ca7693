// A cell that moves more than the ledger keeps one by one (20,000): its older moves are folded,
// and the report line still counts their time as %transfers does, overlapping moves once. The cell
// times each of its own awaits, so the test knows how long its reads can at most have taken.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { printedNumber } from '../support/gpu-cell';
import { hintLines, parseReportLine, runOk, theReport, useReportKernel } from '../support/report';

/** "6248 ms", "12.5 ms", "980 µs" as ms. */
function durationMs(value: string, unit: string): number {
  return unit === 'µs' ? Number(value) / 1000 : Number(value);
}

/** `N transfers, <size>, <ms> ms wall-clock …`: %transfers' total. */
function footerMs(listing: string): number {
  const match = /^\d+ transfers, [^,]+, ([\d.]+) ms wall-clock/m.exec(listing);
  assert.ok(match !== null, `no "N transfers, size, X ms wall-clock" footer:\n${listing}`);
  return Number(match[1]);
}

describe('inline report: moves folded past the 20,000 kept one by one count as %transfers counts them', () => {
  const kernel = useReportKernel();

  test('21,000 reads, four awaited together at a time: the line\'s time is at most the time the cell awaited them, and %transfers\' total', async (t) => {
    await runOk(kernel(), [
      '%device gpu:0',
      'const x = tf.add(tf.ones([2048]), 1);',
      'await x.data();',
    ].join('\n'));
    // Each read starts inside data() and ends before its Promise.all settles: the awaits' sum bounds their union.
    const exchange = await runOk(kernel(), [
      'let awaited = 0, reads = 0;',
      'const started = performance.now();',
      'for (let i = 0; i < 5250; i++) {',
      '  const r = [tf.add(x, x), tf.mul(x, x), tf.sub(x, x), tf.div(x, x)];',
      '  const from = performance.now();',
      '  await Promise.all(r.map((y) => { reads++; return y.data(); }));',
      '  awaited += performance.now() - from;',
      '  tf.dispose(r);',
      '}',
      'console.log(`elapsed ${(performance.now() - started).toFixed(3)}`);',
      'console.log(`awaited ${awaited.toFixed(3)}`);',
      'console.log(`reads ${reads}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    // The readback hint counts the line's reads, the folded ones too, as the cell counted them itself.
    const reads = printedNumber(stdout, 'reads');
    const readHint = hintLines(theReport(exchange).text).find((hint) => hint.includes('readback'));
    assert.ok(readHint !== undefined && readHint.includes(`on every iteration (${reads}×`), `the cell read back ${reads} times; the hint says: ${readHint}`);
    const elapsed = printedNumber(stdout, 'elapsed');
    const awaited = printedNumber(stdout, 'awaited');
    const report = theReport(exchange);
    const folded = report.meta.foldedTransfers.reduce((sum, group) => sum + group.count, 0);
    assert.ok(folded >= 9_000 && folded + report.meta.transfers.length === 21_000, `moves were folded: kept ${report.meta.transfers.length}, folded ${folded}`);
    const line = parseReportLine(report.text.split('\n')[0]!);
    const shown = /D2H 21000× [\d.]+ \S+ ([\d.]+) (ms|µs) \(copy ([\d.]+) (ms|µs)/.exec(line.transfers);
    assert.ok(shown !== null, `the line gives the 21,000 reads' time: ${line.transfers}`);
    const lineMs = durationMs(shown[1]!, shown[2]!);
    const copyMs = durationMs(shown[3]!, shown[4]!);
    const listing = streamText(await runOk(kernel(), '%transfers'), 'stdout');
    const total = footerMs(listing);
    t.diagnostic(`line ${lineMs} ms (copy ${copyMs} ms), %transfers ${total} ms; the cell awaited its reads ${awaited.toFixed(1)} ms of ${elapsed.toFixed(1)} ms`);
    // 1 ms for the clocks' readings; the line's figure is rounded to whole ms.
    assert.ok(lineMs <= awaited + 1, `the line says ${lineMs} ms; the cell awaited its reads ${awaited.toFixed(1)} ms in all: ${line.transfers}`);
    assert.ok(lineMs <= elapsed, `the line says ${lineMs} ms in a cell of ${elapsed.toFixed(1)} ms`);
    assert.ok(copyMs <= lineMs, `copy ${copyMs} ms ≤ ${lineMs} ms`);
    assert.ok(Math.abs(lineMs - total) <= 0.5 + 0.0005 * total, `the line (${lineMs} ms) and %transfers (${total} ms) count the same moves the same way:\n${listing}`);
    // What the reads waited for, in parts: together they are the wait, ms − copy (each figure rounded as shown).
    const waitText = /D2H 21000×[^|]*?, wait ([^;)]+)/.exec(line.transfers)?.[1] ?? '';
    const parts = [...waitText.matchAll(/([\d.]+) (ms|µs) /g)].map((part) => durationMs(part[1]!, part[2]!));
    const partsMs = parts.reduce((sum, part) => sum + part, 0);
    assert.ok(parts.length > 0, `the line names what the reads waited for: ${line.transfers}`);
    assert.ok(Math.abs(partsMs - (lineMs - copyMs)) <= 1 + 0.5 * parts.length, `the wait's parts add up to ${partsMs.toFixed(1)} ms; the wait is ${lineMs} − ${copyMs} ms: ${line.transfers}`);
  });

  test('10,500 reads one after another, the 20,000th record folding the first half: the GPU work they waited for is no more than the GPU\'s own clock timed, folded reads included', async (t) => {
    // Each read waits for its own add (and its scalar's write) alone: no other read's copy is queued
    // ahead of it, so its GPU work is that pass's, which the GPU's clock times. Folded with their
    // waits unsplit, the first 10,000 reads booked their queue latency as GPU work: 5119 ms against
    // the clock's 2502 (and 8018 against 4092) where the split reads show 2812 against 3194.
    const exchange = await runOk(kernel(), [
      "const one = await tf.fill([256], 3).to('gpu:0');",
      'for (let i = 0; i < 10500; i++) { const z = one.add(i); await z.data(); z.dispose(); }',
      '0',
    ].join('\n'));
    const report = theReport(exchange);
    const folded = report.meta.foldedTransfers.reduce((sum, group) => sum + group.count, 0);
    // How many of this cell's fold depends on the records earlier cells left (the ledger's count is the session's).
    assert.ok(folded >= 5_000, `moves were folded: kept ${report.meta.transfers.length}, folded ${folded}`);
    const line = parseReportLine(report.text.split('\n')[0]!);
    const waitText = /D2H 10500×[^|]*?, wait ([^;)]+)/.exec(line.transfers)?.[1] ?? '';
    const gpuWork = [...waitText.matchAll(/([\d.]+) (ms|µs) gpu:0 GPU work/g)].reduce((sum, part) => sum + durationMs(part[1]!, part[2]!), 0);
    const gpuClock = report.meta.devices.find((use) => use.device === 'gpu:0')?.gpu?.ms ?? 0;
    t.diagnostic(`GPU work waited for ${gpuWork} ms; the GPU's clock ${gpuClock.toFixed(1)} ms`);
    assert.ok(gpuClock > 0, `the GPU's clock timed the adds: ${report.text.split('\n')[0]}`);
    // 2% and 2 ms for the line's rounding.
    assert.ok(gpuWork <= 1.02 * gpuClock + 2, `the reads waited ${gpuWork} ms for GPU work; the GPU's clock timed ${gpuClock.toFixed(1)} ms: ${report.text.split('\n')[0]}`);
  });

  test('20,500 uploads from one loop line: the upload hint counts them all and its copying and waiting fit in the time the cell awaited them', async () => {
    const exchange = await runOk(kernel(), [
      'const host = await tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]).to("cpu");',
      'let uploadAwaited = 0, uploads = 0;',
      'for (let i = 0; i < 20500; i++) {',
      '  const from = performance.now();',
      '  const g = await host.clone().to("gpu:0"); uploads++;',
      '  uploadAwaited += performance.now() - from;',
      '  g.dispose();',
      '}',
      'console.log(`awaited ${uploadAwaited.toFixed(3)}`);',
      'console.log(`uploads ${uploads}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const uploads = printedNumber(stdout, 'uploads');
    const awaited = printedNumber(stdout, 'awaited');
    const report = theReport(exchange);
    const folded = report.meta.foldedTransfers.reduce((sum, group) => sum + group.count, 0);
    assert.ok(folded > 0, `moves were folded: kept ${report.meta.transfers.length}, folded ${folded}`);
    const hint = hintLines(report.text).find((text) => text.includes('host→GPU moves'));
    const shown = /^(\d+) host→GPU moves .*? \(([\d.]+) (ms|µs) copying(?: and ([\d.]+) (ms|µs) of tsgpu's own work on the calls)?(?:, after ([\d.]+) (ms|µs) waiting)?/.exec(hint ?? '');
    assert.ok(shown !== null, `an upload hint with its copying time: ${hint}\n${report.text}`);
    assert.equal(Number(shown[1]), uploads, `the cell uploaded ${uploads} times; the hint says: ${hint}`);
    const copying = durationMs(shown[2]!, shown[3]!);
    const hinted = copying + (shown[4] === undefined ? 0 : durationMs(shown[4], shown[5]!)) + (shown[6] === undefined ? 0 : durationMs(shown[6], shown[7]!));
    assert.ok(hinted <= awaited + 1, `the hint's copying, the kernel's own work and waiting add up to ${hinted.toFixed(1)} ms; the cell awaited its uploads ${awaited.toFixed(1)} ms in all: ${hint}`);
    // Every upload of the cell is this line's: the hint's copying is the line's, folded half included (the line's figure is checked against %transfers above).
    const line = parseReportLine(report.text.split('\n')[0]!);
    const lineCopy = /H2D \d+× [\d.]+ \S+ [\d.]+ (?:ms|µs) \(copy ([\d.]+) (ms|µs)/.exec(line.transfers);
    assert.ok(lineCopy !== null, line.transfers);
    const lineCopyMs = durationMs(lineCopy[1]!, lineCopy[2]!);
    assert.ok(Math.abs(copying - lineCopyMs) <= 0.01 * lineCopyMs + 0.5, `the hint says ${copying} ms copying, the line ${lineCopyMs} ms: ${hint}\n${line.transfers}`);
  });
});
