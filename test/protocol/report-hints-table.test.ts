// The report's hints, situation by situation: a hint names a cause the user can change, in code
// the user wrote. Each case runs the cells of test/support/hint-cases.ts in one kernel, in order,
// and says which hint it expects, or that it expects silence (the software-GPU note aside). Counts
// the hints quote are checked against what the cell measured itself (History, the loop's bounds).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, failure, resultText, streamText } from '../support/exchange';
import { HINT_CASES, HINT_CASES_PRELUDE, type HintCase } from '../support/hint-cases';
import type { Exchange } from '../support/kernel-client';
import { assertSize, countOf, describeCell, hintLines, htmlText, listItems, type Report, REPORT_TIMEOUT_MS, reportTableOf, runOk, theReport, useReportKernel } from '../support/report';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "26.3 ms", "333 µs", "1.20 s" -> ms, and how far off the rounding shown may be. */
function durationOf(text: string): { ms: number; error: number } {
  const match = /^([\d.]+) (ms|µs|s)$/.exec(text.trim());
  assert.ok(match !== null, `not a duration: ${JSON.stringify(text)}`);
  const unit = match[2] === 'µs' ? 0.001 : match[2] === 's' ? 1000 : 1;
  const decimals = (match[1]!.split('.')[1] ?? '').length;
  return { ms: Number(match[1]) * unit, error: (unit / 10 ** decimals) / 2 };
}

/** Hints other than the software-GPU note, after checking each shows in text/plain and the HTML too. */
function hintsOf(report: Report): string[] {
  assert.deepEqual(hintLines(report.text), report.meta.hints, 'text/plain shows the hints of metadata.tsgpu.hints');
  assert.deepEqual(listItems(report.html), report.meta.hints, 'the HTML lists the same hints');
  return report.meta.hints.filter((hint) => !/ is a software GPU \(lavapipe\)/.test(hint));
}

const readbacks = (report: Report): Report['meta']['transfers'] => report.meta.transfers.filter((move) => move.direction === 'D2H');
const uploads = (report: Report): Report['meta']['transfers'] => report.meta.transfers.filter((move) => move.direction === 'H2D');
const calls = (moves: Report['meta']['transfers']): number => new Set(moves.map((move) => move.via.invocation)).size;
const resultNumber = (exchange: Exchange): number => Number(resultText(exchange));

describe('inline report: which hint each situation gets', () => {
  const kernel = useReportKernel();
  const byKey = new Map(HINT_CASES.map((hintCase) => [hintCase.key, hintCase]));

  /** Runs a case's setup, then its cell (interrupted when the case says so); the cell's exchange and report. */
  async function run(key: string): Promise<{ exchange: Exchange; report: Report }> {
    const hintCase: HintCase | undefined = byKey.get(key);
    assert.ok(hintCase !== undefined, `no hint case "${key}"`);
    for (const cell of hintCase.setup) await runOk(kernel(), cell);
    let exchange: Exchange;
    if (hintCase.interruptAfterMs === undefined) exchange = await runOk(kernel(), hintCase.cell);
    else {
      const running = kernel().startExecute(hintCase.cell, {}, { timeoutMs: REPORT_TIMEOUT_MS });
      await running.iopubMessage('execute_input');
      await sleep(hintCase.interruptAfterMs);
      await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
      exchange = await running.done();
      const reply = executeReply(exchange);
      assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted', describeCell(exchange));
    }
    const report = theReport(exchange);
    for (const cell of hintCase.cleanup) await runOk(kernel(), cell);
    return { exchange, report };
  }

  test('(the cells every case uses: makeModel(), 192 rows)', async () => {
    await runOk(kernel(), HINT_CASES_PRELUDE);
  });

  test('model.fit(xs, ys, { epochs: 5 }): fit reads loss and accuracy back once per epoch, inside tfjs-layers: silence', async () => {
    const { exchange, report } = await run('fit');
    const logged = resultNumber(exchange);
    assert.equal(logged, 10, 'History logged 5 epochs × 2 values');
    assert.equal(readbacks(report).length, logged, `one readback per logged value: ${JSON.stringify(readbacks(report))}`);
    assert.ok(readbacks(report).every((move) => move.via.by === 'library' && move.via.call === 'fit' && move.line === 1 && !move.inLoop),
      'each readback is fit\'s, at line 1, not in a loop of the user\'s');
    assert.deepEqual(hintsOf(report), []);
  });

  test('fit with callbacks: progress.fit({ epochs: 5 }): the kernel\'s bar adds no readback to fit\'s own: silence', async () => {
    const { exchange, report } = await run('fit+progress.fit');
    assert.equal(readbacks(report).length, resultNumber(exchange), 'as many readbacks as values History logged, as without the bar');
    assert.deepEqual(hintsOf(report), []);
  });

  test('fit with a callback that has onBatchEnd: "fit read every batch\'s logs back (28× at line 1) because a callback has onBatchEnd: …"', async () => {
    const { exchange, report } = await run('fit+onBatchEnd');
    const expected = resultNumber(exchange);
    assert.equal(readbacks(report).length, expected, '(batches + epochs) × logged values');
    assert.deepEqual(hintsOf(report), [`fit read every batch's logs back (${expected}× at line 1) because a callback has onBatchEnd: `
      + 'read the logs in onEpochEnd instead, or use a larger batchSize (fewer batches, fewer readbacks).']);
  });

  test("await model.to('cpu') of a trained 20-weight model: one call reading back weights and Adam's moments is not a loop: silence", async () => {
    const { exchange, report } = await run("model.to('cpu')");
    assert.equal(resultNumber(exchange), 20);
    const reads = readbacks(report);
    assert.ok(reads.length >= 20, `every weight read back: ${reads.length}`);
    assert.equal(calls(reads), 1, 'one call');
    assert.ok(reads.every((move) => move.via.by === 'kernel' && move.via.call === 'model.to'), 'made by the kernel\'s model.to');
    assert.deepEqual(hintsOf(report), []);
  });

  test("await model.to('gpu:0') with Adam state (12 tensors): one call, not a loop: silence", async () => {
    const { report } = await run("model.to('gpu:0') with Adam state");
    const moves = uploads(report);
    assert.equal(moves.filter((move) => !move.scalar).length, 12, '4 weights and 8 Adam moments');
    assert.equal(calls(moves), 1, 'one call');
    assert.deepEqual(hintsOf(report), []);
  });

  test('an interrupted fit with progress.fit: its readbacks (once per epoch) get no hint at all, let alone two', async () => {
    const { report } = await run('interrupted fit');
    assert.ok(readbacks(report).length > 0, 'it read back some epochs before the interrupt');
    assert.deepEqual(hintsOf(report), []);
  });

  test('%timeit -n 3 -r 3 await readOnce(): a function that reads back once per call, repeated by %timeit, is not told "on every iteration"', async () => {
    const { report } = await run('%timeit readOnce');
    assert.equal(readbacks(report).length, 9, 'one readback for each of the 9 calls');
    assert.equal(calls(readbacks(report)), 9);
    assert.deepEqual(hintsOf(report), []);
  });

  test("%device gpu:0, then await model.to('cpu') and predict on an input made on gpu:0: the hint says the policy moved the weights back and why, never to move them to gpu:0", async () => {
    const { exchange, report } = await run("policy moves weights back after model.to('cpu')");
    const weights = Number(/, (\d+) \]$/.exec(resultText(exchange) ?? '')?.[1]);
    assert.match(resultText(exchange) ?? '', /^\[ 'gpu:0', \d+ \]$/, 'the prediction ran on gpu:0');
    assert.equal(uploads(report).filter((move) => move.cause === 'implicit' && move.untimed === undefined).length, weights, 'each weight went back to gpu:0');
    // The input was made on gpu:0 from host values: its upload at first use is one move of its 4 floats, time not measured.
    assert.deepEqual(uploads(report).filter((move) => move.untimed).map((move) => [move.bytes, move.line]), [[16, 2]]);
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, new RegExp(`^the device policy moved ${weights} tensors that model\\.to had put on cpu \\(cell \\d+\\) back to gpu:0 at line 2 for predict, `
      + "because another input of \\w+ is on gpu:0, where new tensors are made \\(%device gpu:0\\): make that input on cpu "
      + "\\(await withDevice\\('cpu', \\(\\) => …\\) or %device cpu\\) or move it with await <that input>\\.to\\('cpu'\\); "
      + "and as this cell put them back on gpu:0, repeat your model\\.to\\('cpu'\\) of cell \\d+\\.$"));
    assert.doesNotMatch(hints[0]!, /to\('gpu:0'\)/, 'no advice to move them to gpu:0');
  });

  test("trainOnBatch after model.to('cpu') under %device gpu:0: one hint, the policy's moves back, with the step's other moves from cpu told in it, none advising gpu:0", async () => {
    const { exchange, report } = await run("policy moves weights back for trainOnBatch after model.to('cpu')");
    const weights = resultNumber(exchange);
    const timedImplicit = uploads(report).filter((move) => move.cause === 'implicit' && move.untimed === undefined);
    // Adam's 0-d step counters, which model.to moved too, go back as scalars: the hint is about the weights.
    assert.equal(timedImplicit.filter((move) => move.reverses !== null && !move.scalar).length, weights, 'each weight went back to gpu:0 once');
    // The step's constants and scalars, made on cpu because the model is there: counted from the moves themselves.
    const others = timedImplicit.filter((move) => move.reverses === null && move.from === 'cpu' && move.to === 'gpu:0' && move.line === 2).length;
    assert.ok(others > 0, 'the steps moved tensors of their own from cpu');
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, new RegExp(`^the device policy moved ${weights} tensors that model\\.to had put on cpu \\(cell \\d+\\) back to gpu:0 at line 2 for trainOnBatch `
      + `\\(and ${others} other tensors made on cpu for it\\), because another input of \\w+ is on gpu:0, where new tensors are made .*; `
      + "and as this cell put them back on gpu:0, repeat your model\\.to\\('cpu'\\) of cell \\d+\\.$"));
    assert.doesNotMatch(hints[0]!, /to\('gpu:0'\)|make the model and optimizer on gpu:0/, 'no advice pointing the other way');
  });

  test("trainOnBatch again after moving the data to cpu, as the hint said, the policy having moved the weights to gpu:0 in the step before: the hint names the weight and that move, and says to move the model back", async () => {
    const { report } = await run("trainOnBatch again, the data moved to cpu, the weights on gpu:0 by the policy's earlier step");
    const moved = uploads(report).filter((move) => move.cause === 'implicit' && move.reverses !== null && !move.scalar);
    assert.ok(moved.length > 0 && moved.every((move) => move.reverses!.operation === 'to'), JSON.stringify(uploads(report)));
    // The weight that drew the op: a variable the policy moved for trainOnBatch in the cell before.
    const anchor = moved[0]!.anchor;
    assert.ok(anchor !== undefined && /kernel$/.test(anchor.name ?? '') && anchor.placedBy?.by === 'policy' && anchor.placedBy.operation === 'trainOnBatch', JSON.stringify(anchor));
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, new RegExp(`^the device policy moved ${moved.length} tensors that againX\\.to\\(\\) and againY\\.to\\(\\) had put on cpu \\(cell \\d+\\) back to gpu:0 at line 2 for trainOnBatch, `
      + `because another input of \\w+ \\(variable '${anchor.name}'\\) is on gpu:0, where the device policy moved it in cell ${anchor.placedBy.cell} \\(for trainOnBatch\\): `
      + "move it back with await againModel\\.to\\('cpu'\\); and as this cell put them back on gpu:0, repeat your againX\\.to\\('cpu'\\) and againY\\.to\\('cpu'\\) of cell \\d+\\.$"));
  });

  test("the policy undoing the user's move to cpu for a matMul: the hint names the op's other input and the moved tensor as the line does, no `x`", async () => {
    const { report } = await run('matMul of a tensor moved back to cpu with one made on gpu:0');
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, /^the device policy moved 1 tensor that movedH\.to\(\) had put on cpu \(cell \d+\) back to gpu:0 at line 1 for BatchMatMul, because another input of it is on gpu:0, where new tensors are made \(%device gpu:0\): make that input on cpu \(.*\) or move it with await madeW\.to\('cpu'\); and as this cell put it back on gpu:0, repeat your movedH\.to\('cpu'\) of cell \d+\.$/);
  });

  test('the policy undoing a move to cpu after the user put the other input on gpu:0: the hint names that call as written (chosenW.to()), and both ways', async () => {
    const { report } = await run('matMul after the user put its other input on gpu:0 since');
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, /^the device policy moved 1 tensor that chosenH\.to\(\) had put on cpu \(cell \d+\) to gpu:0 at line 2 for BatchMatMul, because another input of it is on gpu:0, where chosenW\.to\(\) put it \(cell \d+\): to run on gpu:0, make it explicit with await chosenH\.to\('gpu:0'\); to run on cpu, move that input back with await chosenW\.to\('cpu'\)\.$/);
  });

  test('reads of a map awaited together (Promise.all): "stack the tensors and read them back once", not "every N steps"', async () => {
    const { report } = await run('Promise.all of a map of reads');
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.equal(reads.length, 20, JSON.stringify(reads));
    assert.deepEqual(hintsOf(report), ['20 GPU→host readbacks at line 1, in flight together: stack the tensors and read them back once (`await tf.stack(tensors).data()`), one readback instead of 20.']);
  });

  test('reads awaited together of tensors of other shapes: join them flattened and read once, not tf.stack (which needs one shape)', async () => {
    const { report } = await run('Promise.all of a map of reads of tensors of other shapes');
    assert.equal(report.meta.transfers.filter((move) => move.direction === 'D2H').length, 10, report.text);
    assert.deepEqual(hintsOf(report), ['10 GPU→host readbacks at line 1, in flight together: join the tensors and read them back once '
      + '(`await tf.concat(tensors.map((t) => t.flatten())).data()`, then split the values by each tensor\'s size), one readback instead of 10.']);
  });

  test('fit after setWeights of weight copies moved to cpu: the hint names no restored.to() the user never called', async () => {
    const { report } = await run('fit after setWeights of weight copies moved to cpu');
    const hints = hintsOf(report);
    assert.ok(hints.some((hint) => /^the device policy moved \d+ tensors? that <that tensor>\.to\(\) had put on cpu/.test(hint)), JSON.stringify(hints));
    assert.ok(hints.every((hint) => !/restored\.to\(/.test(hint)), JSON.stringify(hints));
  });

  test('minimize on cpu tensors under %device gpu:0: the policy\'s moves to gpu:0 say an input was made there, and how to run on cpu instead', async () => {
    const { report } = await run('minimize on cpu tensors under %device gpu:0');
    const hints = hintsOf(report).filter((hint) => /made for you by the device policy/.test(hint));
    assert.equal(hints.length, 1, JSON.stringify(hintsOf(report)));
    assert.match(hints[0]!, /, because another input of \w+ was made on gpu:0, where new tensors are made \(%device gpu:0\): make (it|them) explicit with await (?:<that input>|\w+)\.to\('gpu:0'\), or, to run (it|them) on cpu, put that input there \(withDevice\('cpu', …\) or %device cpu\) and move (it|them) back too \((it is|they are) on gpu:0 now\)\.$/);
  });

  test('true positive: a per-batch upload in the user\'s loop: "12 host→GPU moves of 256 B each at line 3 (… copying): move the batch once, before the loop, …"', async () => {
    const { report } = await run('TP: per-batch upload in a user loop');
    const moves = uploads(report);
    assert.equal(moves.length, 12, 'one upload per iteration of the 12');
    // 16 rows × 4 features × 4 B, as the cell's slice makes them.
    assert.ok(moves.every((move) => move.bytes === 16 * 4 * 4), JSON.stringify(moves.map((move) => move.bytes)));
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    const match = /^12 host→GPU moves of 256 B each at line 3 \(([\d.]+) (ms|µs) copying(?: and [\d.]+ (?:ms|µs|s) of tsgpu's own work on the calls)?(?:, after [\d.]+ (?:ms|µs|s) waiting for [^)]*, which this does not save)?(?:; [\d.]+ (?:ms|µs|s) more waiting for [^)]*, which this saves only as far as the moves caused it)?\): move the batch once, before the loop, and keep the data on the device\.$/.exec(hints[0]!);
    assert.ok(match !== null, hints[0]);
    // The copy the hint quotes is the moves' copies (one after another in the loop), never their waits.
    const copied = moves.reduce((sum, move) => sum + move.copyMs, 0);
    const quoted = Number(match[1]) / (match[2] === 'µs' ? 1000 : 1);
    assert.ok(Math.abs(quoted - copied) <= Math.max(0.05, copied * 0.01), `quoted ${quoted} ms, the moves copied ${copied} ms`);
  });

  test('true positive: tf.tensor2d of a host batch each step under %device gpu:0: each upload at first use is an H2D of the bytes the cell made, credited to line 3, and the hint fires', async () => {
    const { exchange, report } = await run('TP: per-step tf.tensor2d batch made on gpu:0 in a user loop');
    const madeBytes = resultNumber(exchange);
    const batches = uploads(report).filter((move) => move.line === 3 && move.cell === undefined);
    assert.equal(batches.length, 12, `one upload per batch: ${JSON.stringify(uploads(report))}`);
    assert.equal(batches.reduce((sum, move) => sum + move.bytes, 0), madeBytes, 'the bytes the cell made');
    assert.ok(batches.every((move) => move.untimed === true && move.ms === 0 && move.via.by === 'user' && move.inLoop), JSON.stringify(batches[0]));
    assert.equal(calls(batches), 12, 'one call per step');
    // The weights made in the setup cell (line 1) were uploaded here too, and their line names its cell.
    const setupCell = countOf(exchange) - 1;
    const weights = uploads(report).filter((move) => move.cell === setupCell && move.line === 1);
    assert.equal(weights.length, 1, JSON.stringify(uploads(report)));
    assert.equal(weights[0]!.bytes, 4 * 8 * 4);
    assert.match(htmlText(reportTableOf(report.html) ?? ''), new RegExp(`cell ${setupCell}, line 1`), 'the HTML names the other cell\'s line with its cell');
    const shown = /\bH2D 13× (\S+ \S+) not measured \(uploaded at first use\)/.exec(report.text);
    assert.ok(shown !== null, report.text);
    assertSize(shown[1]!, madeBytes + 4 * 8 * 4, 'the text\'s H2D bytes');
    assert.deepEqual(hintsOf(report), [`12 host→GPU moves of ${madeBytes / 12} B each at line 3 (tensors made there from host values, uploaded at first use; time not measured): `
      + 'make the data once, before the loop (one tensor of every batch, sliced on the device each step), and keep it on the device.']);
  });

  test('opt.minimize each step under %device gpu:0: the constants and scalars tfjs makes there are uploads of the library\'s, and only the readback gets a hint', async () => {
    const { report } = await run('opt.minimize per step on gpu:0, batches sliced on the device');
    const made = uploads(report).filter((move) => move.untimed && move.line === 4);
    assert.ok(made.length >= 12, `tfjs's own tensors made at line 4 were uploaded: ${made.length}`);
    assert.ok(made.every((move) => move.via.by === 'library'), JSON.stringify(made.filter((move) => move.via.by !== 'library').slice(0, 3)));
    assert.deepEqual(hintsOf(report), ['a GPU→host readback at line 5 on every iteration (12×, .data() per step): '
      + 'read back every N steps, or keep the running value on the device.']);
  });

  test('true positive: tf.scalar(lr) each step under %device gpu:0: "10 host scalars made at line 2 went to gpu:0 one by one, …"', async () => {
    const { report } = await run('TP: tf.scalar(lr) per step on gpu:0');
    const scalars = uploads(report).filter((move) => move.scalar);
    assert.equal(scalars.length, 10, JSON.stringify(uploads(report)));
    assert.ok(scalars.every((move) => move.bytes === 4 && move.line === 2 && move.untimed === true), JSON.stringify(scalars));
    assert.deepEqual(hintsOf(report), ['10 host scalars made at line 2 went to gpu:0 one by one, each uploaded at first use: '
      + 'make them once, before the loop (const lr = tf.scalar(…) outside it), or pass plain numbers where the op takes them.']);
  });

  test('true positive: scalars made on the host, used on gpu:0 each step: "10 scalars went from the host to gpu:0 one by one, …" (no model or optimizer advice)', async () => {
    const { report } = await run('TP: host-made scalars used on gpu:0 each step');
    const scalars = uploads(report).filter((move) => move.scalar);
    assert.equal(scalars.length, 10, JSON.stringify(uploads(report)));
    assert.deepEqual(hintsOf(report), ['10 scalars went from the host to gpu:0 one by one, one move per use: make them on gpu:0, once, before they are used '
      + "(a number passed to an op becomes a scalar on the current device: %device gpu:0 or withDevice('gpu:0', …) makes it there)."]);
  });

  test('true positive: 21,000 scalars moved to gpu:0 in a loop, more than the ledger keeps one by one: the hint counts every one of them', async () => {
    const { exchange, report } = await run("TP: 21,000 host scalars used on gpu:0, past the ledger's folding");
    const steps = resultNumber(exchange);
    assert.ok(report.meta.foldedTransfers.length > 0, 'precondition: the ledger folded older moves');
    assert.deepEqual(hintsOf(report), [`${steps} scalars went from the host to gpu:0 one by one, one move per use: make them on gpu:0, once, before they are used `
      + "(a number passed to an op becomes a scalar on the current device: %device gpu:0 or withDevice('gpu:0', …) makes it there)."]);
  });

  test('true positive: a readback in a helper of an earlier cell, called from the loop: credited to the loop\'s line, naming the helper\'s line and cell', async () => {
    const { exchange, report } = await run('TP: readback in a helper of an earlier cell, called from a user loop');
    const helperCell = countOf(exchange) - 1;
    const reads = readbacks(report);
    assert.equal(reads.length, resultNumber(exchange), 'one readback per call');
    assert.ok(reads.every((move) => move.line === 3 && move.inLoop && move.helper?.cell === helperCell && move.helper.line === 4), JSON.stringify(reads[0]));
    assert.deepEqual(hintsOf(report), [`a GPU→host readback at line 3 (in the function called there, cell ${helperCell}, line 4) on every iteration (10×, `
      + '.data() per step): read back every N steps, or keep the running value on the device.']);
    assert.doesNotMatch(htmlText(reportTableOf(report.html) ?? ''), /\bline 4\b/, 'no line of the helper\'s cell shown as this cell\'s');
  });

  test('true positive: a readback in a helper of the same cell, called from the loop: "at line 7 (in the function called there, line 3)"', async () => {
    const { report } = await run('TP: readback in a helper of the same cell, called from a user loop');
    assert.equal(readbacks(report).length, 10);
    assert.deepEqual(hintsOf(report), ['a GPU→host readback at line 7 (in the function called there, line 3) on every iteration (10×, '
      + '.data() per step): read back every N steps, or keep the running value on the device.']);
  });

  test('warn and strict after await model.to(\'cpu\') under %device gpu:0: the message names the explicit move and offers both ways, never undoing it alone nor %device gpu:0', async () => {
    await runOk(kernel(), '%device gpu:0');
    await runOk(kernel(), '%device_policy warn');
    const made = 'tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [8] })] })';
    const warned = await runOk(kernel(), `const warnModel = ${made};\nawait warnModel.to('cpu');\nconst warnOut = warnModel.predict(tf.ones([2, 8])) as tf.Tensor;\nwarnOut.device`);
    const warning = streamText(warned, 'stderr');
    const cell = countOf(warned);
    assert.match(warning, new RegExp(`predict: the model's weights are on cpu \\(model\\.to, cell ${cell}\\) and its input is on gpu:0: moved them to gpu:0 for you \\(H2D\\)\\. `
      + "Put them together once: `await input\\.to\\('cpu'\\)` to run it on cpu, or `await model\\.to\\('gpu:0'\\)` to run it on gpu:0\\."), warning);
    assert.doesNotMatch(warning, /Move it once yourself/, warning);
    await runOk(kernel(), '%device_policy strict');
    const strictModel = await runOk(kernel(), `const strictModel = ${made};\nawait strictModel.to('cpu');\n0`);
    const error = await failure(kernel(), 'strictModel.predict(tf.ones([2, 8]));');
    assert.equal(error.ename, 'DeviceError', JSON.stringify(error));
    assert.match(error.evalue, new RegExp(`predict: the model's weights are on cpu \\(model\\.to, cell ${countOf(strictModel)}\\) and its input is on gpu:0\\.\\) `
      + "Under %device_policy strict tensors are not moved for you: `await input\\.to\\('cpu'\\)` to run it on cpu, or `await model\\.to\\('gpu:0'\\)` to run it on gpu:0\\."), error.evalue);
    assert.doesNotMatch(error.evalue, /%device gpu:0/, 'gpu:0 is already current');
    await runOk(kernel(), '%device_policy auto');
    await runOk(kernel(), '%device cpu');
  });

  test('overlapping readbacks (Promise.all, some setting up staging): copy and wait split the total, which is within the cell\'s own measurement', async () => {
    const exchange = await runOk(kernel(), [
      '%device gpu:0',
      // Sizes from 4 B to 1 MiB: the big ones go through staging buffers, made on first use.
      'const parts = [1, 16, 4096, 65536, 262144].map((n) => tf.fill([n], 2).mul(3));',
      'await tf.ready();',
      'const t0 = performance.now();',
      'await Promise.all(parts.map((part) => part.data()));',
      'console.log(`whole ${(performance.now() - t0).toFixed(3)}`);',
    ].join('\n'));
    await runOk(kernel(), '%device cpu');
    const whole = Number(/whole ([\d.]+)/.exec(streamText(exchange, 'stdout'))?.[1]);
    const report = theReport(exchange);
    const reads = readbacks(report);
    assert.equal(reads.length, 5, JSON.stringify(report.meta.transfers));
    const sumMs = reads.reduce((sum, move) => sum + move.ms, 0);
    const line = /D2H 5× \S+ \S+ (\S+ (?:ms|µs|s)) \(copy (\S+ (?:ms|µs|s)), [^,]+(?:, wait (.+?))?\)/.exec(report.text);
    assert.ok(line !== null, report.text);
    const [total, copy] = [durationOf(line[1]!), durationOf(line[2]!)];
    const waits = line[3] === undefined ? [] : line[3].split(' + ').map((part) => durationOf(/^(\S+ (?:ms|µs|s))/.exec(part)![1]!));
    assert.ok(sumMs > total.ms + total.error, `the reads must overlap to test this: they took ${sumMs} ms one by one, ${total.ms} ms together`);
    const wait = Math.max(0, ...waits.map((part) => part.ms));
    assert.ok(copy.ms <= total.ms + total.error && waits.every((part) => part.ms <= total.ms - copy.ms + total.error + copy.error + part.error),
      `copy ${copy.ms} and each wait (${waits.map((part) => part.ms).join(', ')}) fit in the total ${total.ms}: ${report.text}`);
    assert.ok(copy.ms + wait <= total.ms + total.error + copy.error + 0.01 * total.ms + 0.005, `parts exceed the total: ${report.text}`);
    assert.ok(total.ms <= whole + total.error, `the moves took ${total.ms} ms together; the cell measured ${whole} ms for the whole Promise.all`);
  });

  test('true positive: await loss.data() on every step of the user\'s loop: "a GPU→host readback at line 3 on every iteration (10×, …)"', async () => {
    const { report } = await run('TP: per-step await loss.data() in a user loop');
    assert.equal(readbacks(report).length, 10, 'one readback per iteration of the 10');
    assert.deepEqual(hintsOf(report), ['a GPU→host readback at line 3 on every iteration (10×, .data() per step): '
      + 'read back every N steps, or keep the running value on the device.']);
  });

  test('true positive: h.to(\'cpu\') on every step of the user\'s loop is a move, not a value read: "a GPU→host move at line 3 on every iteration (10×, .to(\'cpu\') per step)"', async () => {
    const { report } = await run('TP: a tensor moved to the host on every step of a user loop');
    assert.equal(readbacks(report).length, 10, 'one move per iteration of the 10');
    assert.deepEqual(hintsOf(report), ['a GPU→host move at line 3 on every iteration (10×, .to(\'cpu\') per step): '
      + 'keep the tensors on gpu:0 through the loop, and move what you need to the host once, after it.']);
  });

  test('true positive: a tensor moved to the host each step, which the policy moved back for the next step\'s matMul, gets one hint, not "move the batch once" nor "repeat your x.to(\'cpu\')" beside it', async () => {
    const { report } = await run('TP: a tensor moved to the host each step, and back by the policy for the next step');
    const movedBack = report.meta.transfers.filter((move) => move.direction === 'H2D' && move.cause === 'implicit' && move.reverses !== null);
    assert.equal(movedBack.length, 9, `the policy moved backH back on each step but the first: ${JSON.stringify(report.meta.transfers.map((move) => [move.direction, move.cause, move.line]))}`);
    assert.deepEqual(hintsOf(report), ['a GPU→host move at line 3 on every iteration (10×, .to(\'cpu\') per step) (the device policy moved 9 back to gpu:0 for the next step\'s ops, which this saves too): '
      + 'keep the tensors on gpu:0 through the loop, and move what you need to the host once, after it.']);
  });

  test('true positive: reads started in the user\'s loop and awaited after it are credited to the line that started them, and, in flight together, get "stack the tensors and read them back once"', async () => {
    const { report } = await run('TP: reads started in a user loop, awaited after it');
    assert.ok(readbacks(report).every((move) => move.line === 3 && move.inLoop), JSON.stringify(readbacks(report)[0]));
    assert.deepEqual(hintsOf(report), ['10 GPU→host readbacks at line 3, in flight together: stack the tensors and read them back once '
      + '(`await tf.stack(tensors).data()`), one readback instead of 10.']);
  });

  test('true positive: trainOnBatch in the user\'s loop: "trainOnBatch reads its loss and metrics back on every call (20× at line 3, …): model.fit … once per epoch"', async () => {
    const { exchange, report } = await run('TP: trainOnBatch in a user loop');
    const returned = resultNumber(exchange);
    assert.equal(readbacks(report).length, returned, 'one readback per value trainOnBatch returned');
    assert.deepEqual(hintsOf(report), [`trainOnBatch reads its loss and metrics back on every call (${returned}× at line 3, each step of your loop): `
      + 'model.fit over the same batches reads them back once per epoch.']);
  });
});
