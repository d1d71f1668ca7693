// The timeline draws each move from its start for its duration; overlapping moves count once in
// the cell's transfer time; a readback inside tfjs-layers' trainOnBatch/fit names the cell line
// that called it; and what the GPU computes is what the host computes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { printedNumber } from '../support/gpu-cell';
import { runOk, theReport, useReportKernel } from '../support/report';

const MOVE = /<g class="tsgpu-move" data-index="(\d+)" data-start-ms="([\d.]+)" data-ms="([\d.]+)">.*?<rect class="tsgpu-move-span" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g;

/** Largest difference between two lists of numbers. */
function maxDifference(a: number[], b: number[]): number {
  assert.equal(a.length, b.length, 'as many values on both devices');
  return a.reduce((most, value, index) => Math.max(most, Math.abs(value - b[index]!)), 0);
}

describe('inline report: timeline, overlapping moves, call sites, GPU results', () => {
  const kernel = useReportKernel();

  test('each move is drawn from its start for its duration (x-span = start and ms on the SVG\'s scale)', async () => {
    await runOk(kernel(), "const warmT = tf.ones([2 * 1024 * 1024]);\nawait warmT.to('gpu:0');\nawait warmT.cpu();");
    const exchange = await runOk(kernel(), [
      'const tl = tf.ones([4 * 1024 * 1024]);',
      'const t0 = performance.now();',
      "await tl.to('gpu:0');",
      'console.log(`measured ${(performance.now() - t0).toFixed(3)}`);',
      'await tl.cpu();',
    ].join('\n'));
    const measured = printedNumber(streamText(exchange, 'stdout'), 'measured');
    const report = theReport(exchange);
    const svg = report.svg ?? '';
    const scale = /data-x0="([\d.]+)" data-px-per-ms="([\d.]+)"/.exec(svg);
    assert.ok(scale !== null, 'the SVG states its scale');
    const [x0, pxPerMs] = [Number(scale[1]), Number(scale[2])];
    const drawn = [...svg.matchAll(MOVE)];
    assert.equal(drawn.length, report.meta.transfers.length, `one band per move: ${svg.slice(0, 400)}`);
    for (const match of drawn) {
      const move = report.meta.transfers[Number(match[1])]!;
      assert.ok(Math.abs(Number(match[4]) - (x0 + move.at * pxPerMs)) < 0.02, `${move.direction} starts at x = x0 + at × scale`);
      assert.ok(Math.abs(Number(match[5]) - move.ms * pxPerMs) < 0.02, `${move.direction} is ms × scale wide`);
    }
    const up = report.meta.transfers.find((move) => move.direction === 'H2D')!;
    const down = report.meta.transfers.find((move) => move.direction === 'D2H')!;
    assert.ok(Math.abs(up.ms - measured) <= 0.15 * measured + 5, `the H2D drawn ${up.ms.toFixed(1)} ms long; the cell measured ${measured.toFixed(1)} ms`);
    assert.ok(down.at >= up.at + up.ms - 0.01, 'the readback starts after the upload ended');
  });

  test('past 300 moves, runs of moves that touch on the drawing are one band each: the SVG stays small and its bands hold every move', async () => {
    const exchange = await runOk(kernel(), "const many = Array.from({ length: 1000 }, () => tf.ones([4]));\nfor (const m of many) await m.to('gpu:0');");
    const report = theReport(exchange);
    const svg = report.svg ?? '';
    const moves = report.meta.transfers.filter((move) => move.direction === 'H2D');
    assert.equal(moves.length, 1000);
    // One band per move drew ~0.6 KB each: 1,000 moves made ~600 KB of SVG, sent twice (image and HTML).
    assert.ok(svg.length < 60_000, `the SVG is ${svg.length} bytes for ${moves.length} moves`);
    assert.equal([...svg.matchAll(MOVE)].length, 0, 'no band per move');
    const bands = [...svg.matchAll(/<g class="tsgpu-moves" data-count="(\d+)" data-start-ms="([\d.]+)" data-end-ms="([\d.]+)">/g)]
      .map((match) => ({ count: Number(match[1]), start: Number(match[2]), end: Number(match[3]) }));
    assert.ok(bands.length > 0 && bands.length < moves.length, `${bands.length} bands for ${moves.length} moves`);
    assert.equal(bands.reduce((sum, band) => sum + band.count, 0), moves.length, 'the bands count every move once');
    for (const move of moves) {
      assert.ok(bands.some((band) => band.start <= move.at + 0.001 && band.end >= move.at + move.ms - 0.001), `a band holds the move at ${move.at.toFixed(3)} ms for ${move.ms.toFixed(3)} ms`);
    }
  });

  test('two moves at once count once in the cell\'s transfer time (their union), each keeps its own ms', async () => {
    const exchange = await runOk(kernel(), [
      'const o1 = tf.ones([4 * 1024 * 1024]);',
      'const o2 = tf.ones([4 * 1024 * 1024]);',
      'const t1 = performance.now();',
      "await Promise.all([o1.to('gpu:0'), o2.to('gpu:0')]);",
      'console.log(`measured ${(performance.now() - t1).toFixed(3)}`);',
    ].join('\n'));
    const measured = printedNumber(streamText(exchange, 'stdout'), 'measured');
    const report = theReport(exchange);
    const moves = report.meta.transfers.filter((move) => move.direction === 'H2D');
    assert.equal(moves.length, 2);
    const [a, b] = moves as [typeof moves[0], typeof moves[0]];
    const overlap = Math.min(a.at + a.ms, b.at + b.ms) - Math.max(a.at, b.at);
    assert.ok(overlap > 0, `the two moves overlap: ${JSON.stringify(moves)}`);
    const shown = /H2D 2× 32\.0 MiB ([\d.]+) ms/.exec(report.text);
    assert.ok(shown !== null, report.text);
    const union = Math.max(a.at + a.ms, b.at + b.ms) - Math.min(a.at, b.at);
    assert.ok(Math.abs(Number(shown[1]) - union) <= Math.max(0.5, 0.01 * union), `the text shows the union ${union.toFixed(1)} ms, not the sum ${(a.ms + b.ms).toFixed(1)}: ${report.text}`);
    assert.ok(Math.abs(union - measured) <= 0.15 * measured + 5, `union ${union.toFixed(1)} ms vs the cell's own ${measured.toFixed(1)} ms`);
  });

  test('readbacks inside model.trainOnBatch and model.fit name the line that called them', async () => {
    await runOk(kernel(), [
      "%device gpu:0",
      "const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [8], activation: 'relu' }), tf.layers.dense({ units: 1 })] });",
      "model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });",
      'const xs = tf.randomNormal([32, 8]);',
      'const ys = tf.randomNormal([32, 1]);',
    ].join('\n'));
    const report = theReport(await runOk(kernel(), 'const before = 1;\nconst lossValue = await model.trainOnBatch(xs, ys);\nawait model.fit(xs, ys, { epochs: 2, batchSize: 16, verbose: 0 });'));
    const reads = report.meta.transfers.filter((move) => move.direction === 'D2H');
    assert.ok(reads.length >= 2, `readbacks of the losses: ${JSON.stringify(report.meta.transfers)}`);
    for (const read of reads) assert.ok(read.line === 2 || read.line === 3, `each readback names line 2 or 3: ${JSON.stringify(read)}`);
    assert.ok(reads.some((read) => read.line === 2), 'trainOnBatch\'s readback names line 2');
    assert.ok(reads.some((read) => read.line === 3), 'fit\'s readbacks name line 3');
    assert.doesNotMatch(report.html, /caused by[^]*\?/, 'no "?" in caused by');
    await runOk(kernel(), '%device cpu');
  });

  test('GPU predictions equal the host\'s within 1e-5 (and the comparison catches a wrong result)', async () => {
    const exchange = await runOk(kernel(), [
      "const net = tf.sequential({ layers: [tf.layers.dense({ units: 16, inputShape: [10], activation: 'tanh' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });",
      'const input = tf.randomNormal([64, 10], 0, 1, "float32", 7);',
      'const onHost = Array.from(await (net.predict(input) as tf.Tensor).data());',
      "await net.to('gpu:0');",
      "await input.to('gpu:0');",
      'const onGpu = net.predict(input) as tf.Tensor;',
      'const gpuValues = Array.from(await onGpu.data());',
      'console.log(`where ${onGpu.device}`);',
      'console.log(`host ${JSON.stringify(onHost)}`);',
      'console.log(`gpu ${JSON.stringify(gpuValues)}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    assert.match(stdout, /where gpu:0/, 'the second prediction ran on gpu:0');
    const host = JSON.parse(/host (\[.*\])/.exec(stdout)![1]!) as number[];
    const gpu = JSON.parse(/gpu (\[.*\])/.exec(stdout)![1]!) as number[];
    assert.equal(host.length, 64 * 3);
    assert.ok(maxDifference(host, gpu) <= 1e-5, `GPU and host predictions differ by ${maxDifference(host, gpu)}`);
    const wrong = gpu.map((value, index) => (index === 17 ? value + 1e-3 : value));
    assert.ok(maxDifference(host, wrong) > 1e-5, 'a prediction off by 1e-3 is caught');
  });
});
