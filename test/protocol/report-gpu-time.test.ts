// GPU time from the GPU's own clock: a GPU-bound cell's GPU ms against the test's own timestamp
// queries around the same work, and %profile's per-op GPU ms against the same measurement.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { GPU_HANDLE, GPU_STAMPS, printedNumber } from '../support/gpu-cell';
import { freshKernel } from '../support/fixtures';
import { deviceOf, REPORT_TIMEOUT_MS, runOk, theReport, useReportKernel } from '../support/report';

/** Matrices of `m` (see SIZE), `count` times: GPU-bound, each op's GPU work well above the host's ~0.1 ms to dispatch it. */
const WORK = (name: string, count: number): string => `let ${name} = m;\nfor (let i = 0; i < ${count}; i++) ${name} = tf.matMul(${name}, m);`;

/**
 * `m`'s size: 512 on a software GPU (~0.1 s of lavapipe work each); 4096 on a real one. On an H200
 * six 512² matMuls took 13 µs each on the GPU and ~100 µs each to dispatch: the cell's timestamps
 * then spanned the GPU waiting for the host (0.63 ms around 0.13 ms of work), not the work.
 */
function size(software: boolean): number {
  return software ? 512 : 4096;
}

describe('inline report: GPU time from the GPU clock', () => {
  const kernel = useReportKernel();
  /** `m`'s size in this kernel, set by the first test. */
  let n = 512;

  test('a GPU-bound cell\'s GPU ms is within 10% of the cell\'s own timestamp measurement', async () => {
    const probed = theReport(await runOk(kernel(), "%device gpu:0\nconst probe = tf.ones([4]).add(1);\nawait probe.data();"));
    n = size(deviceOf(probed, 'gpu:0').software);
    // Warm up: shaders compiled, staging made, so the measured cell is GPU work only.
    await runOk(kernel(), `const m = tf.randomNormal([${n}, ${n}]);\n${WORK('w', 2)}\nawait w.data();\n${GPU_HANDLE}\n${GPU_STAMPS}`);
    const exchange = await runOk(kernel(), [
      'const opening = openingStamp();',
      WORK('g', 6),
      'gpu.device.queue.submit([opening]);',
      'flushGpu();',
      'stampGpu(1);',
      'console.log(`stamped ${(await readStamps()).toFixed(3)}`);',
    ].join('\n'));
    const stamped = printedNumber(streamText(exchange, 'stdout'), 'stamped');
    const gpu = deviceOf(theReport(exchange), 'gpu:0').gpu;
    assert.ok(gpu !== null && gpu.source === 'timestamps', `gpu:0 reports timestamp GPU time: ${JSON.stringify(gpu)}`);
    assert.ok(Math.abs(gpu.ms - stamped) <= 0.1 * stamped,
      `the report says gpu:0 worked ${gpu.ms.toFixed(2)} ms; the cell's own timestamps around the work say ${stamped.toFixed(2)} ms (10% allowed)`);
  });

  test('the text and HTML show GPU time beside host op time, labelled as the GPU clock', async () => {
    const report = theReport(await runOk(kernel(), `${WORK('h', 1)}\nawait h.data();`));
    const gpu = deviceOf(report, 'gpu:0');
    assert.match(report.text, /gpu:0 (\(software\) )?\d+ ops, host [\d.]+ (ms|µs), GPU [\d.]+ (ms|s|µs) \(GPU clock/, report.text);
    assert.match(report.html, /GPU time/, 'the devices table has a GPU time column');
    assert.ok(gpu.gpu !== null && gpu.gpu.spans.length > 0, 'the timeline gets the GPU\'s busy spans');
    assert.match(report.svg ?? '', /class="tsgpu-gpu-span"/, 'the SVG draws them');
  });

  test('%%profile: one row per op and device, GPU ms summing to within 10% of the cell\'s own timestamps, in metadata.tsgpu too', async () => {
    const exchange = await runOk(kernel(), [
      '%%profile',
      'const opening = openingStamp();',
      WORK('p', 4),
      'const q = p.relu();',
      'gpu.device.queue.submit([opening]);',
      'flushGpu();',
      'stampGpu(1);',
      'console.log(`stamped ${(await readStamps()).toFixed(3)}`);',
    ].join('\n'));
    const stamped = printedNumber(streamText(exchange, 'stdout'), 'stamped');
    const report = theReport(exchange);
    const profile = report.meta.profile;
    assert.ok(profile !== null, `metadata.tsgpu.profile is there: ${JSON.stringify(report.meta).slice(0, 500)}`);
    const matMul = profile.find((row) => row.op === 'BatchMatMul' && row.device === 'gpu:0');
    assert.ok(matMul !== undefined && matMul.calls === 4, `BatchMatMul ×4 on gpu:0: ${JSON.stringify(profile)}`);
    assert.equal(matMul.bytesIn, 4 * 2 * n * n * 4, `two ${n}×${n} float32 inputs per call`);
    assert.equal(matMul.bytesOut, 4 * n * n * 4, `one ${n}×${n} float32 output per call`);
    assert.equal(profile[0]!.op, 'BatchMatMul', 'sorted by GPU time: the matMuls first');
    const total = profile.reduce((sum, row) => sum + (row.gpuMs ?? 0), 0);
    assert.ok(Math.abs(total - stamped) <= 0.1 * stamped,
      `the profile's GPU ms add up to ${total.toFixed(2)}; the cell's own timestamps say ${stamped.toFixed(2)} ms (10% allowed)`);
    assert.match(report.text, /BatchMatMul\s+gpu:0\s+4\s/, `the text table lists it: ${report.text}`);
    assert.match(report.html, /class="tsgpu-profile"/);
  });

  test('a cell of more submits than a query set holds (4,500 > 2,048 spans) loses none of their GPU time', async () => {
    // Every iteration is one submit (a small op and its readback). Per submit, the GPU ms of a cell
    // that fills the clock's query set twice must match that of a cell that fills none: a set lost
    // or misread mid-cell would drop ~half of it or more.
    // Each submit is a 128² matMul: GPU time lavapipe spends computing, not only waking its threads
    // (an add's ~150 µs per submit varied by ±40% from one cell to the next).
    const LOOP = (count: number): string => `for (let i = 0; i < ${count}; i++) { const y = s.matMul(s); await y.data(); y.dispose(); }`;
    await runOk(kernel(), `const s = tf.randomNormal([128, 128]).matMul(tf.eye(128));\n${LOOP(200)}`);
    // lavapipe computes on the CPU, so its GPU time per submit drifts with the machine's load
    // (±30% between cells at load 4): the few-submit cell runs before and after the long one, and
    // the long one must fall within 30% of the range they span.
    const fewBefore = deviceOf(theReport(await runOk(kernel(), LOOP(1500))), 'gpu:0').gpu;
    const many = deviceOf(theReport(await runOk(kernel(), LOOP(4500))), 'gpu:0').gpu;
    const fewAfter = deviceOf(theReport(await runOk(kernel(), LOOP(1500))), 'gpu:0').gpu;
    assert.ok(fewBefore !== null && fewAfter !== null && many !== null && fewBefore.ms > 0 && fewAfter.ms > 0,
      `GPU time for every cell: ${JSON.stringify({ fewBefore, many, fewAfter })}`);
    const few = [fewBefore.ms / 1500, fewAfter.ms / 1500];
    const perSubmitMany = many.ms / 4500;
    assert.ok(perSubmitMany >= 0.7 * Math.min(...few) && perSubmitMany <= 1.3 * Math.max(...few),
      `GPU µs per submit: ${few.map((ms) => (ms * 1000).toFixed(1)).join(' and ')} over 1,500 submits (before, after), ${(perSubmitMany * 1000).toFixed(1)} over 4,500 (30% beyond their range allowed)`);
  });

  test('without %profile the report has no per-op table', async () => {
    const report = theReport(await runOk(kernel(), `${WORK('n', 1)}\nawait n.data();`));
    assert.equal(report.meta.profile, null);
    assert.doesNotMatch(report.html, /tsgpu-profile/);
  });

  test('without timestamp queries (TSGPU_GPU_TIME=fenced) GPU time is fenced, labelled so, and covers the timestamps\' measurement', async (t) => {
    const fenced = await freshKernel(t, { readyTimeoutMs: REPORT_TIMEOUT_MS, env: { TSGPU_GPU_TIME: 'fenced' } });
    await runOk(fenced, `%device gpu:0\nconst m = tf.randomNormal([512, 512]);\n${WORK('w', 2)}\nawait w.data();\n${GPU_HANDLE}\n${GPU_STAMPS}`);
    const exchange = await runOk(fenced, ['const opening = openingStamp();', WORK('g', 6), 'gpu.device.queue.submit([opening]);', 'flushGpu();', 'stampGpu(1);', 'console.log(`stamped ${(await readStamps()).toFixed(3)}`);'].join('\n'));
    const stamped = printedNumber(streamText(exchange, 'stdout'), 'stamped');
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0').gpu;
    assert.ok(gpu !== null && gpu.source === 'fenced', `gpu:0's time is fenced: ${JSON.stringify(gpu)}`);
    // A fence ends after the work does and counts idle gaps: never less than the GPU's own measure, at most the cell.
    assert.ok(gpu.ms >= 0.9 * stamped && gpu.ms <= report.meta.durationMs + 1,
      `fenced ${gpu.ms.toFixed(1)} ms; timestamps ${stamped.toFixed(1)} ms; cell ${report.meta.durationMs.toFixed(1)} ms`);
    assert.match(report.text, /fenced, idle gaps included/, report.text);
  });
});
