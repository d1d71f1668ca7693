// The report's hints, situation by situation: a hint names a cause the user can change, in code
// the user wrote. Each case runs the cells of test/support/hint-cases.ts in one kernel, in order,
// and says which hint it expects, or that it expects silence (the software-GPU note aside). Counts
// the hints quote are checked against what the cell measured itself (History, the loop's bounds).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, resultText } from '../support/exchange';
import { HINT_CASES, HINT_CASES_PRELUDE, type HintCase } from '../support/hint-cases';
import type { Exchange } from '../support/kernel-client';
import { describeCell, hintLines, listItems, type Report, REPORT_TIMEOUT_MS, runOk, theReport, useReportKernel } from '../support/report';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
    assert.equal(uploads(report).filter((move) => move.cause === 'implicit').length, weights, 'each weight went back to gpu:0');
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, new RegExp(`^the device policy moved ${weights} tensors that model\\.to had put on cpu \\(cell \\d+\\) back to gpu:0 at line 2 for predict, `
      + "because the input was made on the current device, gpu:0: make the input on cpu \\(withDevice\\('cpu', \\(\\) => …\\) or %device cpu\\)\\.$"));
    assert.doesNotMatch(hints[0]!, /to\('gpu:0'\)/, 'no advice to move them to gpu:0');
  });

  test('true positive: a per-batch upload in the user\'s loop: "12 small host→GPU moves at line 3 (…): move the batch once, before the loop, …"', async () => {
    const { report } = await run('TP: per-batch upload in a user loop');
    assert.equal(uploads(report).length, 12, 'one upload per iteration of the 12');
    const hints = hintsOf(report);
    assert.equal(hints.length, 1, JSON.stringify(hints));
    assert.match(hints[0]!, /^12 small host→GPU moves at line 3 \([\d.]+ ms\): move the batch once, before the loop, and keep the data on the device\.$/);
  });

  test('true positive: await loss.data() on every step of the user\'s loop: "a GPU→host readback at line 3 on every iteration (10×, …)"', async () => {
    const { report } = await run('TP: per-step await loss.data() in a user loop');
    assert.equal(readbacks(report).length, 10, 'one readback per iteration of the 10');
    assert.deepEqual(hintsOf(report), ['a GPU→host readback at line 3 on every iteration (10×, e.g. await loss.data() per step): '
      + 'read back every N steps, or keep the running value on the device.']);
  });

  test('true positive: trainOnBatch in the user\'s loop: "trainOnBatch reads its loss and metrics back on every call (20× at line 3, …): model.fit … once per epoch"', async () => {
    const { exchange, report } = await run('TP: trainOnBatch in a user loop');
    const returned = resultNumber(exchange);
    assert.equal(readbacks(report).length, returned, 'one readback per value trainOnBatch returned');
    assert.deepEqual(hintsOf(report), [`trainOnBatch reads its loss and metrics back on every call (${returned}× at line 3, each step of your loop): `
      + 'model.fit over the same batches reads them back once per epoch.']);
  });
});
