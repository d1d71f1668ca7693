// progress() and progress.fit draw a live chart: one display whose bundle, once a step has values
// or moved data, is Vega-Lite + SVG + text/plain (no HTML, which JupyterLab would prefer), updated
// in place at most once per 100 ms (spacing of the messages' header dates), the last update holding
// every epoch. The values charted are compared with what the cell measured itself (fit's History,
// the loop's own readings of %transfers' ledger through progress().history).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import type { Exchange } from '../support/kernel-client';
import { progressOf, runOk, theReport, useReportKernel } from '../support/report';

const VEGALITE = 'application/vnd.vegalite.v5+json';

interface Row { series: string; x: number; y: number }

/** The Vega-Lite views of a chart bundle (one, or each of an hconcat). */
function viewsOf(spec: unknown): { title?: string; data: { values: Row[] }; mark: unknown }[] {
  const record = spec as { hconcat?: unknown[] };
  return (record.hconcat ?? [spec]) as { title?: string; data: { values: Row[] }; mark: unknown }[];
}

function seriesOf(rows: Row[], name: string): number[] {
  return rows.filter((row) => row.series === name).sort((a, b) => a.x - b.x).map((row) => row.y);
}

/** Milliseconds between consecutive messages of the progress display, from their header dates. */
function spacingOf(exchange: Exchange, displayId: string): number[] {
  const dates = exchange.iopub
    .filter((msg) => (msg.header.msg_type === 'display_data' || msg.header.msg_type === 'update_display_data')
      && (msg.content['transient'] as { display_id?: string } | undefined)?.display_id === displayId)
    .map((msg) => Date.parse(msg.header.date));
  return dates.slice(1).map((date, index) => date - dates[index]!);
}

describe('live training chart', () => {
  const kernel = useReportKernel();

  test('progress.fit over 50 epochs: updates at least 100 ms apart, the last one charts loss, val_loss, acc and val_acc for all 50 epochs', async (t) => {
    const exchange = await runOk(kernel(), [
      'const model = tf.sequential();',
      "model.add(tf.layers.dense({ units: 4, inputShape: [2], activation: 'relu' }));",
      "model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));",
      "model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['acc'] });",
      'const xs = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7)]));',
      'const ys = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [Math.sin(i) > 0 ? 1 : 0]));',
      'const history = await model.fit(xs, ys, { epochs: 50, batchSize: 16, validationSplit: 0.25, callbacks: progress.fit({ epochs: 50 }) });',
      'console.log(JSON.stringify(history.history));',
    ].join('\n'));
    const measured = JSON.parse(streamText(exchange, 'stdout')) as Record<string, number[]>;
    const { displayId, first, updates, texts } = progressOf(exchange);
    assert.match(texts.at(-1) ?? '', /^\[█+\] 100% epoch 50\/50 · /);

    const spacing = spacingOf(exchange, displayId);
    assert.equal(spacing.length, updates.length);
    // Header dates are when each draw was made (1 ms resolution), not when the protocol thread got
    // round to publishing it (that wake-up varied by up to 12 ms on two busy cores).
    const closest = Math.min(...spacing);
    assert.ok(closest >= 100, `updates ${closest} ms apart (all: ${spacing.join(', ')}): at most one per 100 ms`);
    t.diagnostic(`${updates.length} updates for 50 epochs, ${closest} to ${Math.max(...spacing)} ms apart`);
    assert.ok(updates.length < 50, `${updates.length} updates for 50 epochs: the chart is throttled, not redrawn per epoch`);

    const last = updates.at(-1)!;
    assert.deepEqual(Object.keys(last.data).sort(), [VEGALITE, 'image/svg+xml', 'text/plain'].sort(),
      'one bundle per update: Vega-Lite, SVG for clients without Vega, text; no HTML (JupyterLab would prefer it)');
    assert.deepEqual(last.metadata, { [VEGALITE]: { embed_options: { renderer: 'svg' } } });
    const [metrics] = viewsOf(last.data[VEGALITE]);
    assert.ok(metrics !== undefined, 'a metrics view');
    for (const name of ['loss', 'val_loss', 'acc', 'val_acc']) {
      const charted = seriesOf(metrics!.data.values, name);
      assert.equal(charted.length, 50, `${name}: one point per epoch`);
      assert.deepEqual(charted.map((v) => v.toPrecision(6)), measured[name]!.map((v) => v.toPrecision(6)), `${name} as fit's History has it`);
    }
    const points = (last.data['image/svg+xml'] as string).match(/class="tsgpu-chart-point"/g)?.length ?? 0;
    assert.equal(points, 4 * 50, 'the SVG fallback draws the same 200 points');
    assert.ok(first.data['text/html'] !== undefined || first.data[VEGALITE] !== undefined, 'the first draw shows the bar or the chart');
    theReport(exchange);
  });

  test('progress() with moves: each step\'s transfer time is charted beside the values, and adds up to the report\'s', async () => {
    const exchange = await runOk(kernel(), [
      'function hasGpu(): boolean { try { device(\'gpu:0\'); return true; } catch { return false; } }',
      "const target = hasGpu() ? 'gpu:0' : 'cpu';",
      'const bar = progress(6);',
      'const kept: tf.Tensor[] = [];',
      'for (const step of bar) {',
      '  kept.push(await tf.ones([256 * (step + 1)]).to(target));',
      '  bar.set({ size: 256 * (step + 1) });',
      '}',
      'console.log(JSON.stringify(bar.history.map((h) => h.transfers)));',
    ].join('\n'));
    const history = JSON.parse(streamText(exchange, 'stdout')) as { count: number; bytes: number; ms: number }[];
    const report = theReport(exchange);
    const { updates } = progressOf(exchange);
    const [metrics, transfers] = viewsOf(updates.at(-1)!.data[VEGALITE]);
    assert.deepEqual(seriesOf(metrics!.data.values, 'size'), [1, 2, 3, 4, 5, 6].map((n) => 256 * n));
    if (report.meta.transfers.length === 0) return; // no GPU: nothing moved, no transfer view to check
    assert.ok(transfers !== undefined, 'a transfer view beside the values');
    const bars = seriesOf(transfers.data.values, 'transfer ms');
    assert.deepEqual(bars, history.map((h) => h.ms), 'the bars are the steps\' transfer times');
    assert.equal(history.reduce((sum, h) => sum + h.count, 0), report.meta.transfers.length, 'the steps\' moves are the report\'s');
    assert.deepEqual(history.map((h) => h.bytes), [1, 2, 3, 4, 5, 6].map((n) => 4 * 256 * n), 'each step moved its tensor\'s bytes');
    const reportMs = report.meta.transfers.reduce((sum, move) => sum + move.ms, 0);
    assert.ok(Math.abs(bars.reduce((sum, ms) => sum + ms, 0) - reportMs) < 1e-6, 'the charted times add up to the report\'s');
  });

  test('progress() with moves that overlap: each step\'s transfer time counts them once, as the report does (the union of the ledger\'s intervals)', async () => {
    const exchange = await runOk(kernel(), [
      'function hasGpu(): boolean { try { device(\'gpu:0\'); return true; } catch { return false; } }',
      "const where = hasGpu() ? 'gpu:0' : 'cpu';",
      'const steps = progress(4);',
      'for (const step of steps) {',
      // Three reads at once: each waits for the same GPU work and copies beside the others.
      '  const made = await withDevice(where, async () => [1, 2, 3].map((k) => tf.fill([64 * 1024], step + k).add(0)));',
      '  await Promise.all(made.map((t) => t.data()));',
      '  steps.set({ step });',
      '}',
      'console.log(JSON.stringify(steps.history.map((h) => h.transfers)));',
    ].join('\n'));
    const history = JSON.parse(streamText(exchange, 'stdout')) as { count: number; bytes: number; ms: number }[];
    const report = theReport(exchange);
    if (report.meta.transfers.length === 0) return; // no GPU: nothing moved, no transfer view to check
    const { updates } = progressOf(exchange);
    const [, transfers] = viewsOf(updates.at(-1)!.data[VEGALITE]);
    assert.ok(transfers !== undefined, 'a transfer view beside the values');
    const bars = seriesOf(transfers.data.values, 'transfer ms');
    assert.deepEqual(bars, history.map((h) => h.ms), 'the bars are the steps\' transfer times');
    assert.equal(history.reduce((sum, h) => sum + h.count, 0), report.meta.transfers.length, 'the steps\' moves are the report\'s');
    // The test's own union of the moves' intervals [at, at + ms], step by step in ledger order:
    // what each step's moves covered that earlier ones had not.
    const union = (moves: readonly { at: number; ms: number }[]): number => {
      const sorted = moves.map((move) => [move.at, move.at + move.ms] as const).sort((a, b) => a[0] - b[0]);
      let total = 0;
      let [open, close] = [-Infinity, -Infinity];
      for (const [start, end] of sorted) {
        if (start > close) {
          if (close > open) total += close - open;
          [open, close] = [start, end];
        } else close = Math.max(close, end);
      }
      return close > open ? total + close - open : total;
    };
    let seen = 0;
    const expected = history.map((h) => {
      const before = union(report.meta.transfers.slice(0, seen));
      seen += h.count;
      return union(report.meta.transfers.slice(0, seen)) - before;
    });
    bars.forEach((ms, index) => assert.ok(Math.abs(ms - expected[index]!) < 1e-6, `step ${index + 1}: charted ${ms} ms, the union of its moves ${expected[index]} ms (all: ${bars.join(', ')} vs ${expected.join(', ')})`));
    const summed = report.meta.transfers.reduce((sum, move) => sum + move.ms, 0);
    console.log(`charted ${bars.reduce((a, b) => a + b, 0).toFixed(3)} ms, union of the moves ${union(report.meta.transfers).toFixed(3)} ms, their plain sum ${summed.toFixed(3)} ms`);
    assert.ok(Math.abs(bars.reduce((a, b) => a + b, 0) - union(report.meta.transfers)) < 1e-6, 'the charted times add up to the union of the cell\'s moves');
  });
});
