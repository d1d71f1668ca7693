// The workflow of a PyTorch user moving a classifier to the GPU (the seed's story): model.to(device),
// each batch moved before training on it, predictions brought back with .cpu() for accuracy and
// AUC on the host; and the two classic mistakes, each with its error and its fix.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  countOf, errorOf, linesOf, movesIn, printed, runOk, transferRows, useDeviceKernel, valueOf,
} from '../support/devices';
import { iopubOf, resultText, streamText } from '../support/exchange';
import { theReport } from '../support/report';
import { assertTsError } from '../support/typescript';

const SETUP = [
  "const device = 'gpu:0';",
  'const features: number[][] = [];',
  'const targets: number[] = [];',
  'for (let i = 0; i < 64; i++) {',
  '  const row = [0, 1, 2, 3].map((k) => Math.sin(i * 1.7 + k * 2.3));',
  '  features.push(row);',
  '  targets.push(row[0]! + row[1]! > 0 ? 1 : 0);',
  '}',
  'const model = tf.sequential();',
  "model.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }));",
  "model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));",
  "model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy' });",
  'await model.to(device);',
  'model.weights.map((w) => w.read().device)',
].join('\n');

/** 3 epochs of 4 batches of 16; each batch moved to the device before training on it. */
const TRAIN = [
  'const losses: number[] = [];',
  'for (let epoch = 0; epoch < 3; epoch++) {',
  '  for (let start = 0; start < 64; start += 16) {',
  '    const xb = tf.tensor2d(features.slice(start, start + 16));',
  '    const yb = tf.tensor2d(targets.slice(start, start + 16), [16, 1]);',
  '    await xb.to(device);',
  '    await yb.to(device);',
  '    losses.push(await model.trainOnBatch(xb, yb) as number);',
  '  }',
  '}',
  '[losses.length, losses.every((loss) => Number.isFinite(loss))]',
].join('\n');

const EVALUATE = [
  'await preds.cpu();',
  'const scores = Array.from(preds.dataSync());',
  'const accuracy = scores.filter((s, i) => (s > 0.5 ? 1 : 0) === targets[i]).length / targets.length;',
  '/** Probability that a positive scores above a negative (ties count half). */',
  'function auc(scores: number[], truth: number[]): number {',
  '  let wins = 0;',
  '  let pairs = 0;',
  '  for (let i = 0; i < scores.length; i++) {',
  '    for (let j = 0; j < scores.length; j++) {',
  '      if (truth[i] !== 1 || truth[j] !== 0) continue;',
  '      pairs++;',
  '      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;',
  '    }',
  '  }',
  '  return wins / pairs;',
  '}',
  'const rocAuc = auc(scores, targets);',
  '[preds.device, scores.length, accuracy >= 0 && accuracy <= 1, rocAuc >= 0 && rocAuc <= 1]',
].join('\n');

describe('training a model on gpu:0', () => {
  const kernel = useDeviceKernel();

  before(async () => {
    await runOk(kernel(), SETUP);
  });

  test("`await model.to('gpu:0')` puts every weight on gpu:0", async () => {
    assert.equal(await valueOf(kernel(), 'model.weights.map((w) => w.read().device)'), "[ 'gpu:0', 'gpu:0', 'gpu:0', 'gpu:0' ]");
  });

  test('training 3 epochs on batches moved with `await xb.to(device)` runs, and the weights stay on gpu:0', async () => {
    const exchange = await runOk(kernel(), TRAIN);
    assert.equal(resultText(exchange), '[ 12, true ]');
    const transfers = await printed(kernel(), '%transfers');
    const rows = transferRows(transfers);
    const batchMoves = rows.filter(({ text }) => /(^|\s)H2D(\s|$)/.test(text) && /(^|\s)explicit(\s|$)/.test(text)
      && /(^|\s)to(\s|$)/.test(text) && text.includes(`cell ${countOf(exchange)}, line `));
    assert.equal(movesIn(batchMoves), 24, `24 batch moves (12 batches × xb, yb) expected:\n${transfers}`);
    // trainOnBatch reads each loss back (4 B); the weights never leave gpu:0.
    const readBack = rows.filter(({ text }) => /(^|\s)D2H(\s|$)/.test(text));
    const readBytes = readBack.reduce((sum, row) => sum + (row.bytes?.bytes ?? Infinity), 0);
    assert.ok(readBytes <= 12 * 4, `only the 12 losses (48 B) may come back to the host while training:\n${transfers}`);
    assert.equal(await valueOf(kernel(), 'model.weights.map((w) => w.read().device)'), "[ 'gpu:0', 'gpu:0', 'gpu:0', 'gpu:0' ]");
  });

  test("the optimizer's state (Adam's moments) is on gpu:0 after training", async () => {
    // getWeights() also lists 'iter', a scalar it makes from a number on each call: not state kept anywhere.
    const code = "const slots = (await model.optimizer.getWeights()).filter((s) => s.name !== 'iter');\n"
      + "[slots.length, slots.filter((s) => s.tensor.device !== 'gpu:0').map((s) => `${s.name} on ${s.tensor.device}`)]";
    assert.equal(await valueOf(kernel(), code), '[ 8, [] ]');
  });

  test('predictions are made on gpu:0 and `await preds.cpu()` brings them back for accuracy and AUC on the host', async () => {
    assert.equal(await valueOf(kernel(), 'const preds = model.predict(await tf.tensor2d(features).to(device)) as tf.Tensor;\npreds.device'),
      "'gpu:0'");
    assert.equal(await valueOf(kernel(), EVALUATE), "[ 'cpu', 64, true, true ]");
    assert.match(await valueOf(kernel(), '[accuracy, rocAuc]') ?? '', /^\[ [\d.e-]+, [\d.e-]+ \]$/);
  });

  test('with the model and its batches on gpu:0, training runs under %device_policy strict (nothing left on the host)', async () => {
    assert.match(await printed(kernel(), '%device_policy strict'), /\bstrict\b/);
    try {
      // Re-running the training cell: a notebook re-declares its consts.
      assert.equal(await valueOf(kernel(), TRAIN), '[ 12, true ]');
    } finally {
      await printed(kernel(), '%device_policy auto');
    }
  });

  test('classic error 1: a host batch into the gpu:0 model under strict is a DeviceError naming the fix; moving it fixes it',
    async () => {
      await runOk(kernel(), 'const hostBatch = tf.tensor2d(features.slice(0, 4));');
      assert.match(await printed(kernel(), '%device_policy strict'), /\bstrict\b/);
      try {
        const error = await errorOf(kernel(), 'model.predict(hostBatch)');
        assert.equal(error.ename, 'DeviceError');
        assert.ok(error.evalue.startsWith('Expected all tensors to be on the same device, but found at least two devices, gpu:0 and cpu!'),
          error.evalue);
        // Inside predict the op's input is a slice of the batch: the tensor passed to predict, as the line names it.
        assert.match(error.evalue, /\(\w+ in predict: input '\w+' is on cpu but the op runs on gpu:0, and hostBatch, passed to predict, is on cpu\.\)/, error.evalue);
        assert.match(error.evalue, /move it first with await hostBatch\.to\('gpu:0'\)/, error.evalue);
        assert.equal(await valueOf(kernel(), 'const fixedPreds = model.predict(await hostBatch.to(device)) as tf.Tensor;\nfixedPreds.device'),
          "'gpu:0'");
      } finally {
        await printed(kernel(), '%device_policy auto');
      }
    });

  test('fit on host tensors with the model on gpu:0, under warn: each warning names the call\'s line and the tensor passed, and the hint moves both before fit', async () => {
    await runOk(kernel(), 'const fitX = tf.tensor2d(features.slice(0, 16));\nconst fitY = tf.tensor2d(targets.slice(0, 16), [16, 1]);\n0');
    assert.match(await printed(kernel(), '%device_policy warn'), /\bwarn\b/);
    try {
      const exchange = await runOk(kernel(), "const noted = 'first line';\nawait model.fit(fitX, fitY, { epochs: 1, batchSize: 8, verbose: 0 });\n0");
      const cell = countOf(exchange);
      const warnings = streamText(exchange, 'stderr').split('\n').filter((line) => line.startsWith('Warning'));
      // fit's batches run in its promise chain, where no cell frame is on the stack: the call's line, not "(this cell)".
      for (const name of ['fitX', 'fitY']) {
        assert.ok(warnings.some((line) => line.startsWith(`Warning (cell ${cell}, line 2): fit: ${name} is on cpu but fit runs on gpu:0`)
          && line.includes(`Move it once yourself, before fit with await ${name}.to('gpu:0')`)), warnings.join('\n'));
      }
      const hint = theReport(exchange).meta.hints.find((one) => one.includes('made for you by the device policy'));
      assert.match(hint ?? '', /^\d+ moves made for you by the device policy at line 2 \(\w+(?:, \w+)*, in fit\): make them explicit with await fit[XY]\.to\('gpu:0'\) and await fit[XY]\.to\('gpu:0'\) before fit\.$/, hint);
    } finally {
      await printed(kernel(), '%device_policy auto');
    }
  });

  test('fit of a model left on cpu, on data on gpu:0, under warn: the advice moves the model (by its name on the line) and the host labels, not the labels alone', async () => {
    await runOk(kernel(), [
      'const hostModel = tf.sequential();',
      "hostModel.add(tf.layers.dense({ inputShape: [4], units: 1, activation: 'sigmoid' }));",
      "hostModel.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy' });",
      'const gpuX = await tf.tensor2d(features.slice(0, 16)).to(device);',
      'const hostY = tf.tensor2d(targets.slice(0, 16), [16, 1]);',
      '0',
    ].join('\n'));
    assert.match(await printed(kernel(), '%device_policy warn'), /\bwarn\b/);
    try {
      const exchange = await runOk(kernel(), 'await hostModel.fit(gpuX, hostY, { epochs: 1, batchSize: 8, verbose: 0 });\n0');
      const warnings = streamText(exchange, 'stderr').split('\n').filter((line) => line.startsWith('Warning'));
      // Its weights (and the batch indices fit makes beside them) were drawn to gpu:0 by gpuX: the model moves.
      assert.ok(warnings.some((line) => line.includes('fit: the model (hostModel) is on cpu but its data is on gpu:0') && line.includes("await hostModel.to('gpu:0')")), warnings.join('\n'));
      assert.ok(warnings.every((line) => !line.includes('gpuX')), `gpuX is on gpu:0 already: ${warnings.join('\n')}`);
      const hint = theReport(exchange).meta.hints.find((one) => one.includes('made for you by the device policy'));
      assert.match(hint ?? '', /make them explicit with await (?:hostModel|hostY)\.to\('gpu:0'\) and await (?:hostModel|hostY)\.to\('gpu:0'\) before fit\.$/, hint);
      assert.equal(await valueOf(kernel(), 'hostModel.weights[0]!.read().device'), "'gpu:0'", 'the policy moved the weights');
    } finally {
      await printed(kernel(), '%device_policy auto');
    }
  });

  test("classic error 2: `['1','0','1'].cuda()` is a TSError with the asTensor hint", async () => {
    const error = await errorOf(kernel(), "['1','0','1'].cuda()");
    const [problem] = assertTsError(error);
    assert.equal(problem?.code, 2339, error.evalue);
    const hint = linesOf(error.traceback.join('\n')).at(-1) ?? '';
    assert.ok(hint.startsWith('Hint: arrays and strings are not tensors'), error.traceback.join('\n'));
    assert.ok(hint.includes('asTensor('), hint);
  });

  test("classic error 2, fixed: `await asTensor(labels, 'int32').cuda()` is an int32 tensor on gpu:0", async () => {
    await runOk(kernel(), "const labels = ['1', '0', '1'];");
    assert.equal(await valueOf(kernel(), "const labelTensor = await asTensor(labels, 'int32').cuda();\n"
      + '[labelTensor.device, labelTensor.dtype, Array.from(await labelTensor.data())]'), "[ 'gpu:0', 'int32', [ 1, 0, 1 ] ]");
  });
});

describe('a model as a cell\'s value shows as a summary', () => {
  const kernel = useDeviceKernel();

  test('`await model.to(\'gpu:0\')` shows its layers, output shapes and params (as the model counts them from its weights), and where its weights are', async () => {
    await runOk(kernel(), "const summarized = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), tf.layers.dense({ units: 1 })] });\nsummarized.compile({ optimizer: 'adam', loss: 'meanSquaredError' });");
    const exchange = await runOk(kernel(), "await summarized.to('gpu:0')");
    const shown = resultText(exchange) ?? '';
    // Read back by the test from the model itself: each weight's shape, each layer's output shape, each weight's device.
    const json = async (code: string): Promise<unknown> => JSON.parse(await printed(kernel(), `console.log(JSON.stringify(${code}))`));
    const perLayer = await json('summarized.layers.map((layer) => layer.getWeights().reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1), 0))') as number[];
    const shapes = await json('summarized.layers.map((layer) => layer.outputShape)') as (number | null)[][];
    const devices = await json("[...new Set(summarized.weights.map((w) => w.read().device))].join(' and ')") as string;
    const lines = linesOf(shown);
    assert.ok(lines.length < 10, `a summary, not the object:\n${shown}`);
    assert.match(lines[0]!, new RegExp(`^Sequential "sequential_\\d+" \\(weights on ${devices}\\)$`), shown);
    perLayer.forEach((params, index) => {
      const shape = `[${shapes[index]!.map((dimension) => (dimension === null ? 'null' : dimension)).join(', ')}]`;
      assert.ok(lines.some((line) => line.includes('(Dense)') && line.includes(shape) && line.trimEnd().endsWith(` ${params}`)), `layer ${index}: ${shape}, ${params} params:\n${shown}`);
    });
    const total = perLayer.reduce((a, b) => a + b, 0);
    assert.equal(lines.at(-1), `total params: ${total} (trainable ${total})`, shown);
    assert.equal(devices, 'gpu:0');
    const html = String(iopubOf(exchange, 'execute_result')[0]?.data['text/html'] ?? '');
    assert.equal(html.match(/<tr>/g)?.length, perLayer.length + 1, `a header row and a row per layer:\n${html}`);
    assert.ok(html.includes(`total params: ${total}`), html);
  });

  test('console.log(model) prints the same summary', async () => {
    const shown = resultText(await runOk(kernel(), 'summarized')) ?? '';
    assert.equal(await printed(kernel(), 'console.log(summarized)'), `${shown}\n`);
  });
});
