// The report's advice: many small moves from one loop line, a readback on every iteration, moves
// the device policy made, and a software GPU. Each hint shows in metadata.tsgpu.hints, as an
// "  hint: …" line of text/plain and as an <li> of the HTML.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hintLines, htmlText, listItems, Report, reportOf, reportTableOf, runOk, useReportKernel } from '../support/report';

const SMALL_MOVES = /host→GPU moves of .+ each at line/;
const SOFTWARE = /^gpu:0 is a software GPU \(lavapipe\)/;

function assertHintShownEverywhere(report: Report, hint: string): void {
  assert.ok(hintLines(report.text).includes(hint), `text/plain has "  hint: ${hint}":\n${report.text}`);
  assert.ok(listItems(report.html).includes(hint), `the HTML has <li>${hint}</li>: ${JSON.stringify(listItems(report.html))}`);
}

function hintMatching(report: Report, pattern: RegExp): string {
  const hint = report.meta.hints.find((text) => pattern.test(text));
  assert.ok(hint !== undefined, `no hint matching ${pattern}: ${JSON.stringify(report.meta.hints)}`);
  assertHintShownEverywhere(report, hint);
  return hint;
}

describe('inline report: hints', () => {
  const kernel = useReportKernel();

  test('10 small moves from one loop line: "10 host→GPU moves of 64 B each at line 3 (…): move the batch once, before the loop, …"', async () => {
    const report = await reportOf(kernel(), [
      'const smalls = Array.from({ length: 10 }, () => tf.ones([16]));',
      'for (const s of smalls) {',
      "  await s.to('gpu:0');",
      '}',
    ].join('\n'));
    const moves = report.meta.transfers.filter((transfer) => transfer.direction === 'H2D');
    assert.equal(moves.length, 10, `ten H2D moves: ${JSON.stringify(report.meta.transfers)}`);
    assert.ok(moves.every((move) => move.line === 3 && move.bytes === 64 && move.cause === 'explicit'), JSON.stringify(moves));
    const hint = hintMatching(report, SMALL_MOVES);
    assert.match(hint, /^10 host→GPU moves of 64 B each at line 3 \(.+ copying.*\): move the batch once, before the loop/);
    assert.match(htmlText(reportTableOf(report.html) ?? ''), /\bline 3 ×10\b/, 'the H2D row says "line 3 ×10"');
  });

  test('one batched move of the same data gives no small-moves hint', async () => {
    const report = await reportOf(kernel(), "const batch = tf.ones([10, 16]);\nawait batch.to('gpu:0');");
    assert.equal(report.meta.transfers.length, 1);
    assert.deepEqual(report.meta.hints.filter((hint) => SMALL_MOVES.test(hint)), [], `hints: ${JSON.stringify(report.meta.hints)}`);
  });

  test('one big batched move (256 KB) gives no small-moves hint either', async () => {
    const report = await reportOf(kernel(), "const bigBatch = tf.ones([256, 256]);\nawait bigBatch.to('gpu:0');\nbigBatch.dispose();");
    assert.deepEqual(report.meta.hints.filter((hint) => SMALL_MOVES.test(hint)), [], `hints: ${JSON.stringify(report.meta.hints)}`);
  });

  test('a readback on every iteration: "a GPU→host readback at line 3 on every iteration …"', async () => {
    const report = await reportOf(kernel(), [
      "const onGpu = tf.ones([16]); await onGpu.to('gpu:0');",
      'for (let i = 0; i < 10; i++) {',
      '  await onGpu.mul(onGpu).data();',
      '}',
    ].join('\n'));
    const reads = report.meta.transfers.filter((transfer) => transfer.direction === 'D2H');
    assert.equal(reads.length, 10, `ten D2H reads: ${JSON.stringify(report.meta.transfers)}`);
    hintMatching(report, /^a GPU→host readback at line 3 on every iteration/);
  });

  // The advice taken already: a read under a branch of the loop ran on 12 of 600 iterations, and the
  // hint said "on every iteration (12×…): read back every N steps".
  test('a readback every 50 steps, under an if in the loop, gets no readback hint; its moves say they run on some iterations', async () => {
    const report = await reportOf(kernel(), [
      "const perStep = tf.ones([16]); await perStep.to('gpu:0');",
      'for (let step = 0; step < 600; step++) {',
      '  const l = perStep.mul(perStep).mean();',
      '  if (step % 50 === 0) await l.data();',
      '}',
    ].join('\n'));
    const reads = report.meta.transfers.filter((transfer) => transfer.direction === 'D2H');
    assert.equal(reads.length, 12, `twelve D2H reads: ${JSON.stringify(report.meta.transfers)}`);
    assert.ok(reads.every((read) => read.inLoop && read.someIterations === true), JSON.stringify(reads.map(({ line, inLoop, someIterations }) => ({ line, inLoop, someIterations }))));
    assert.deepEqual(report.meta.hints.filter((hint) => /readback/.test(hint)), [], `hints: ${JSON.stringify(report.meta.hints)}`);
  });

  test('an implicit move (auto policy): "1 move made for you by the device policy at line 4 (Add): make … explicit with await hb.to(\'gpu:0\')."', async () => {
    const report = await reportOf(kernel(), [
      'const ga = tf.ones([16]);',
      "await ga.to('gpu:0');",
      'const hb = tf.ones([16]);',
      'const sum = ga.add(hb);',
    ].join('\n'));
    const implicit = report.meta.transfers.filter((transfer) => transfer.cause === 'implicit');
    assert.deepEqual(implicit.map(({ direction, bytes, operation, line }) => ({ direction, bytes, operation, line })),
      [{ direction: 'H2D', bytes: 64, operation: 'Add', line: 4 }], 'the auto policy moved hb for the Add at line 4');
    const hint = hintMatching(report, /made for you by the device policy/);
    // hb, as the line names the moved input, where the hint said x (with x on the GPU, the wrong tensor).
    assert.match(hint, /^1 moves? made for you by the device policy at line 4 \(Add\): make (?:it|them) explicit with await hb\.to\('gpu:0'\)\.?$/);
    assert.deepEqual(implicit.map((transfer) => transfer.input), ['hb'], 'metadata.tsgpu names the moved input');
  });

  test("fit with its data and model on gpu:0: the line says the small tensors fit made from host values and uploaded at first use are fit's own, counted as the moves are; no hint", async () => {
    await runOk(kernel(), [
      "const fitX = await tf.randomNormal([96, 4]).to('gpu:0');",
      "const fitY = await tf.randomNormal([96, 1]).to('gpu:0');",
      "const fitModel = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });",
      "fitModel.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });",
      "await fitModel.to('gpu:0');",
      '0',
    ].join('\n'));
    const report = await reportOf(kernel(), 'await fitModel.fit(fitX, fitY, { epochs: 2, batchSize: 32, verbose: 0 });\n0');
    const uploads = report.meta.transfers.filter((move) => move.direction === 'H2D');
    // None is the user's data (on gpu:0 already): every upload is fit's, made from host values
    // inside it; those tfjs uploaded at their first use are untimed (a policy move of a scalar is timed).
    assert.ok(uploads.length > 0 && uploads.every((move) => move.via.by === 'library' && move.via.call === 'fit'), JSON.stringify(uploads));
    const untimed = uploads.filter((move) => move.untimed === true);
    // fit's own: made from host values, not results of ops tfjs ran on the CPU (those are not told apart).
    const own = untimed.filter((move) => move.callsOwn === true).length;
    assert.ok(own > 0, JSON.stringify(untimed));
    const line = report.text.split('\n')[0]!;
    const said = untimed.length === uploads.length
      ? (own === untimed.length ? "not measured \\(uploaded at first use, fit's own\\)" : `not measured \\(uploaded at first use, ${own} of them fit's own\\)`)
      : `${untimed.length} uploaded at first use, ${own === untimed.length ? "fit's own" : `${own} of them fit's own`}, time not measured\\)`;
    assert.match(line, new RegExp(`H2D ${uploads.length}× [^|]*${said}`), line);
    assert.deepEqual(report.meta.hints.filter((hint) => !SOFTWARE.test(hint)), [], 'fit on the GPU: silence');
  });

  test("predict of an input made on gpu:0 and left in a host array: its upload at first use (predict's slice of it) is not called predict's own", async () => {
    const report = await reportOf(kernel(), "%%device gpu:0\nconst leftInput = tf.ones([2, 4]);\nconst leftOut = fitModel.predict(leftInput) as tf.Tensor;\n(await leftOut.data()).length");
    const uploads = report.meta.transfers.filter((move) => move.direction === 'H2D' && move.untimed === true);
    assert.equal(uploads.reduce((sum, move) => sum + move.bytes, 0), 2 * 4 * 4, JSON.stringify(uploads));
    assert.ok(uploads.every((move) => move.callsOwn !== true), JSON.stringify(uploads));
    assert.doesNotMatch(report.text.split('\n')[0]!, /predict's own/, report.text);
  });

  test('every hint is shown the three ways, in the same order', async () => {
    await runOk(kernel(), '1');
    const report = await reportOf(kernel(), [
      'const loopMoves = Array.from({ length: 9 }, () => tf.ones([4]));',
      "for (const m of loopMoves) await m.to('gpu:0');",
      'for (const m of loopMoves) await m.add(1).data();',
    ].join('\n'));
    assert.ok(report.meta.hints.length >= 2, `the small-moves and readback hints: ${JSON.stringify(report.meta.hints)}`);
    assert.deepEqual(hintLines(report.text), report.meta.hints);
    assert.deepEqual(listItems(report.html), report.meta.hints);
  });
});

describe('inline report: the software-GPU hint, once a session', () => {
  const kernel = useReportKernel();

  test('the first cell that uses gpu:0 (lavapipe) gets the software-GPU hint, later ones and a cpu-only cell do not; the line says "(software)" each time', async () => {
    const cpu = await reportOf(kernel(), 'tf.ones([8]).add(tf.ones([8])).device');
    assert.deepEqual(cpu.meta.hints.filter((hint) => SOFTWARE.test(hint)), [], `no software hint for a cpu cell: ${JSON.stringify(cpu.meta.hints)}`);
    const first = await reportOf(kernel(), "const soft = tf.ones([8]);\nawait soft.to('gpu:0');\nsoft.add(soft).device");
    hintMatching(first, SOFTWARE);
    const again = await reportOf(kernel(), 'soft.mul(soft).device');
    assert.deepEqual(again.meta.hints.filter((hint) => SOFTWARE.test(hint)), [], `told once: ${JSON.stringify(again.meta.hints)}`);
    assert.match(again.text.split('\n')[0]!, /gpu:0 \(software\)/, 'the line still names it');
  });
});
