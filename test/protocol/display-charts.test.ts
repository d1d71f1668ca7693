// Charts for users: display.vegalite(spec) and plot() send one bundle of Vega-Lite, an SVG drawn by
// the kernel (clients without Vega) and text; plot() reads a tensor back once, and the report
// counts that readback like any other move; bad input gets an error that says what to give.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iopubOf } from '../support/exchange';
import { runCell, runOk, theReport, useReportKernel } from '../support/report';
import type { Exchange } from '../support/kernel-client';

const VEGALITE = 'application/vnd.vegalite.v5+json';

interface Row { series: string; x: number; y: number }

/** The one chart a cell showed (a display_data that is not the report). */
function chartOf(exchange: Exchange): { data: Record<string, unknown>; metadata: Record<string, unknown> } {
  const shown = iopubOf(exchange, 'display_data').filter((display) => display.metadata['tsgpu'] === undefined);
  assert.equal(shown.length, 1, `one chart display: ${shown.length}`);
  return shown[0]!;
}

describe('charts for users', () => {
  const kernel = useReportKernel();

  test('display.vegalite(spec): the spec as given, an SVG with one point per row, and text, in one bundle', async () => {
    const exchange = await runOk(kernel(), [
      'const values = [1, 2, 3, 4].map((x) => ({ x, y: x * x }));',
      "display.vegalite({ title: 'squares', mark: 'point', data: { values }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });",
    ].join('\n'));
    const chart = chartOf(exchange);
    assert.deepEqual(Object.keys(chart.data).sort(), [VEGALITE, 'image/svg+xml', 'text/plain'].sort());
    assert.deepEqual((chart.data[VEGALITE] as { data: { values: unknown[] } }).data.values, [1, 2, 3, 4].map((x) => ({ x, y: x * x })));
    assert.equal((chart.data['image/svg+xml'] as string).match(/class="tsgpu-chart-point"/g)?.length, 4, 'the SVG draws the 4 rows');
    assert.match(chart.data['text/plain'] as string, /scatter chart "squares": y against x, 4 points/);
    assert.deepEqual(chart.metadata, { [VEGALITE]: { embed_options: { renderer: 'svg' } } });
  });

  test('plot() of values with NaN and Infinity: the text gives the range of the drawn points and says how many were skipped', async () => {
    const chart = chartOf(await runOk(kernel(), 'await plot([1, NaN, 3, Infinity, 5]);'));
    assert.match(chart.data['text/plain'] as string, /y 1 → 5 \(min 1, max 5, 2 non-finite values skipped\)/);
    assert.equal((chart.data['image/svg+xml'] as string).match(/class="tsgpu-chart-point"/g)?.length, 3, 'the SVG draws the 3 finite values');
  });

  test('plot(x, y) of a 2-D GPU tensor: its columns as series, read back in one move the report counts', async () => {
    const exchange = await runOk(kernel(), [
      "function hasGpu(): boolean { try { device('gpu:0'); return true; } catch { return false; } }",
      "const where = hasGpu() ? 'gpu:0' : 'cpu';",
      'const rows = Array.from({ length: 20 }, (_, i) => [i / 10, Math.sin(i / 3)]);',
      'const ys = await tf.tensor2d(rows).to(where);',
      "await plot(rows.map((_, i) => i), ys, { names: ['ramp', 'wave'], title: 'columns' });",
    ].join('\n'));
    const chart = chartOf(exchange);
    const rows = (chart.data[VEGALITE] as { data: { values: Row[] } }).data.values;
    const expected = Array.from({ length: 20 }, (_, i) => [i / 10, Math.sin(i / 3)]);
    assert.deepEqual(rows.filter((row) => row.series === 'ramp').map((row) => row.y), expected.map((row) => Math.fround(row[0]!)));
    assert.deepEqual(rows.filter((row) => row.series === 'wave').map((row) => row.y), expected.map((row) => Math.fround(row[1]!)));
    const report = theReport(exchange);
    const readbacks = report.meta.transfers.filter((move) => move.direction === 'D2H');
    if (report.meta.transfers.some((move) => move.direction === 'H2D')) {
      assert.equal(readbacks.length, 1, 'one readback for the tensor');
      assert.equal(readbacks[0]!.bytes, 20 * 2 * 4, 'of its 160 bytes');
    }
  });

  test('plot() of something that is not numbers: an error naming the element, and the kernel keeps its state', async () => {
    await runOk(kernel(), 'const kept = 41;');
    const exchange = await runCell(kernel(), "await plot([1, 2, 'three' as unknown as number]);");
    const error = iopubOf(exchange, 'error')[0];
    assert.ok(error !== undefined, 'an error');
    assert.match(error.evalue, /element 2 of the values is "three", not a number/);
    const after = await runOk(kernel(), 'kept + 1');
    assert.equal(iopubOf(after, 'execute_result')[0]?.data['text/plain'], '42');
  });
});
