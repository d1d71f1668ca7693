// progress(): one display that updates in place while a loop or a tfjs fit runs — one
// display_data with transient.display_id, then update_display_data messages with the same id
// (throttled to one per 100 ms, plus a final one).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resultText, streamText } from '../support/exchange';
import { assertNoReport, progressOf, runOk, theReport, useReportKernel } from '../support/report';

/** "[████░░] 40% step 2/5 · …": the bar, percent, label, done and total. */
const BAR = /^\[([█░]+)\] (\d+)% (\w+) (\d+)\/(\d+)\b/;

function parseBar(text: string): { filled: number; width: number; percent: number; label: string; done: number; total: number } {
  const match = BAR.exec(text);
  assert.ok(match !== null, `not a progress bar like "[████░░] 40% step 2/5 · …": ${JSON.stringify(text)}`);
  const bar = match[1] ?? '';
  return {
    filled: [...bar].filter((c) => c === '█').length, width: [...bar].length, percent: Number(match[2]),
    label: match[3] ?? '', done: Number(match[4]), total: Number(match[5]),
  };
}

describe('inline report: progress()', () => {
  const kernel = useReportKernel();

  test('progress(5) with a 50 ms await per step: one display_data, then updates with the same display_id, ending at 5/5', async () => {
    const exchange = await runOk(kernel(), [
      'for (const step of progress(5)) {',
      '  await new Promise((resolve) => setTimeout(resolve, 50));',
      '}',
    ].join('\n'));
    const { texts, updates } = progressOf(exchange);
    const bars = texts.map(parseBar);
    for (const bar of bars) {
      assert.equal(bar.label, 'step');
      assert.equal(bar.total, 5);
      assert.equal(bar.percent, Math.round((bar.done / 5) * 100), `percent of ${bar.done}/5`);
      assert.ok(Math.abs(bar.filled / bar.width - bar.done / 5) <= 1 / bar.width, `the bar is ${bar.done}/5 full: ${JSON.stringify(bar)}`);
    }
    assert.deepEqual(bars.map((bar) => bar.done), [...bars.map((bar) => bar.done)].sort((a, b) => a - b), 'steps never go back');
    const last = texts.at(-1) ?? '';
    assert.match(last, /^\[█+\] 100% step 5\/5 · /, `the final update: ${JSON.stringify(last)}`);
    assert.match(last, /\belapsed\b/);
    for (const text of texts.slice(1, -1)) {
      const bar = parseBar(text);
      if (bar.done > 0 && bar.done < 5) assert.match(text, /\belapsed, ETA\b/, `a step in the middle shows the ETA: ${JSON.stringify(text)}`);
    }
    assert.ok(updates.length <= 6, `at most one update per step plus the final one: ${updates.length}`);
    assertNoReport(exchange, 'a loop that touched no tensor');
  });

  test('a fast loop of 2000 steps is throttled to about one update per 100 ms, plus the final one', async () => {
    const exchange = await runOk(kernel(), [
      'const loopStarted = performance.now();',
      'let total = 0;',
      'for (const step of progress(2000)) total += step;',
      'console.log(`loop took ${(performance.now() - loopStarted).toFixed(1)} ms`);',
    ].join('\n'));
    const took = Number(/loop took ([\d.]+) ms/.exec(streamText(exchange, 'stdout'))?.[1]);
    assert.ok(Number.isFinite(took), `the cell printed its time: ${JSON.stringify(streamText(exchange, 'stdout'))}`);
    const { updates, texts } = progressOf(exchange);
    assert.ok(updates.length <= Math.floor(took / 100) + 2,
      `${updates.length} updates for a ${took} ms loop: at most one per 100 ms plus the final one`);
    assert.match(texts.at(-1) ?? '', /^\[█+\] 100% step 2000\/2000\b/);
  });

  test('progress(1e9) walks its count as it goes: a loop that breaks after 10 steps ran 10 steps, the bar counts the 9 it finished of 1000000000 and says it ended early', async () => {
    // The old bar built a billion-entry array before its first step (the kernel ran out of memory).
    const exchange = await runOk(kernel(), 'let walked = 0;\nfor (const step of progress(1e9)) { walked = step + 1; if (walked === 10) break; }\nwalked');
    assert.equal((exchange.iopub.find((m) => m.header.msg_type === 'execute_result')?.content['data'] as Record<string, string> | undefined)?.['text/plain'], '10');
    assert.match(progressOf(exchange).texts.at(-1) ?? '', /\bstep 9\/1000000000\b.* · ended early$/);
  });

  test('progress(iterable) over an array counts its items', async () => {
    const exchange = await runOk(kernel(), [
      "for (const word of progress(['a', 'b', 'c'])) {",
      '  await new Promise((resolve) => setTimeout(resolve, 20));',
      '}',
    ].join('\n'));
    const { texts } = progressOf(exchange);
    assert.match(texts.at(-1) ?? '', /^\[█+\] 100% \w+ 3\/3\b/);
  });

  test('progress.fit({epochs: 3}) as model.fit callbacks: one display updated to "epoch 3/3" with the loss', async () => {
    const exchange = await runOk(kernel(), [
      'const model = tf.sequential();',
      'model.add(tf.layers.dense({ units: 1, inputShape: [1] }));',
      "model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });",
      'const xs = tf.tensor2d([[1], [2], [3], [4]]);',
      'const ys = tf.tensor2d([[2], [4], [6], [8]]);',
      'const history = await model.fit(xs, ys, { epochs: 3, batchSize: 2, callbacks: progress.fit({ epochs: 3 }) });',
      'history.epoch.length',
    ].join('\n'));
    const { texts } = progressOf(exchange);
    for (const text of texts) {
      const bar = parseBar(text);
      assert.equal(bar.label, 'epoch', JSON.stringify(text));
      assert.equal(bar.total, 3, JSON.stringify(text));
    }
    const last = texts.at(-1) ?? '';
    assert.match(last, /^\[█+\] 100% epoch 3\/3 · /, `the final update: ${JSON.stringify(last)}`);
    assert.match(last, /\bloss \d/, `the loss beside the bar: ${JSON.stringify(last)}`);
    theReport(exchange);
  });
  test('progress.fit() with no epoch count, and with a wrong one, counts the epochs fit runs', async () => {
    for (const given of ['', '{ epochs: 2 }']) {
      const exchange = await runOk(kernel(), [
        'const fitModel = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });',
        "fitModel.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });",
        `await fitModel.fit(tf.tensor2d([[1], [2], [3], [4]]), tf.tensor2d([[2], [4], [6], [8]]), { epochs: 3, batchSize: 2, callbacks: progress.fit(${given}) });`,
        '0',
      ].join('\n'));
      const last = progressOf(exchange).texts.at(-1) ?? '';
      assert.match(last, /^\[█+\] 100% epoch 3\/3 · /, `progress.fit(${given}) on a 3-epoch fit: ${JSON.stringify(last)}`);
    }
  });

  test("the finished bar's elapsed time is the loop's own, measured by the cell (a draw sent later does not add to it)", async () => {
    const exchange = await runOk(kernel(), [
      'const loopStart = performance.now();',
      'for (const step of progress(200000)) {}',
      'const loopSeconds = (performance.now() - loopStart) / 1000;',
      // Busy for half a second after the loop: a throttled last draw goes out after this.
      'const busyUntil = performance.now() + 500;',
      'while (performance.now() < busyUntil) {}',
      'console.log(`loop ${loopSeconds.toFixed(3)}`);',
    ].join('\n'));
    const loopSeconds = Number(/loop ([\d.]+)/.exec(streamText(exchange, 'stdout'))?.[1]);
    const last = progressOf(exchange).texts.at(-1) ?? '';
    const shown = Number(/ ([\d.]+) s elapsed/.exec(last)?.[1]);
    // Shown to a tenth of a second; the bar starts and ends a few statements inside the cell's own timing.
    assert.ok(shown <= loopSeconds + 0.1, `the bar shows ${shown} s elapsed; the loop took ${loopSeconds} s: ${JSON.stringify(last)}`);
  });

  test("a bar counts its own cell's moves, not those an earlier cell's timer makes while it runs", async () => {
    await runOk(kernel(), [
      'const timerSource = tf.randomUniform([65536]);',
      'let timerMoves = 0;',
      "const mover = setInterval(async () => { const moved = await timerSource.clone().to('gpu:0'); moved.dispose(); timerMoves++; }, 30);",
      '0',
    ].join('\n'));
    const exchange = await runOk(kernel(), [
      'const movesBefore = timerMoves;',
      'const quiet = progress(5);',
      'for (const _step of quiet) await new Promise((resolve) => setTimeout(resolve, 60));',
      'console.log(`timer ${timerMoves - movesBefore}`);',
      'quiet.history.map((step) => step.transfers.count)',
    ].join('\n'));
    await runOk(kernel(), 'clearInterval(mover);\nawait new Promise((resolve) => setTimeout(resolve, 100));\n0');
    const timerMoves = Number(/timer (\d+)/.exec(streamText(exchange, 'stdout'))?.[1]);
    assert.ok(timerMoves > 0, `precondition: the timer moved tensors while the bar ran (${timerMoves})`);
    const text = progressOf(exchange).texts.at(-1) ?? '';
    assert.match(text, /5\/5/, text);
    assert.doesNotMatch(text, /transfers \d+×/, `the cell moved nothing: ${text}`);
    assert.equal(resultText(exchange), '[ 0, 0, 0, 0, 0 ]', 'no moves in any step of the bar\'s history');
  });
});
