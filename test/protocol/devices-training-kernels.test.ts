// The kernels model.trainStep and wasm training add, against independent references computed in
// this test: the fused categorical crossentropy and its gradient against tfjs-layers' own loss
// and tf.grad of it (clipped probabilities included, whose gradient is 0), on cpu and gpu:0; and
// wasm's convolution filter gradient against the definition, summed in tfjs-backend-cpu's order in
// double precision here, which it must equal bit for bit (strides 1 and 2, 'valid' and 'same').
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseTextTable, printed, runOk, useDeviceKernel } from '../support/devices';
import type { KernelClient } from '../support/kernel-client';
import { theReport } from '../support/report';

function maxRelative(ours: number[], theirs: number[]): number {
  assert.equal(ours.length, theirs.length);
  return Math.max(...ours.map((value, i) => Math.abs(value - theirs[i]!) / Math.max(Math.abs(theirs[i]!), 1e-6)));
}

/** Rows of probabilities (one below ε, one row not summing to 1) and one-hot targets, as JSON arrays. */
const LOSS_CASE = `const probs = tf.tensor2d([
  [0.7, 0.2, 0.1, 1e-9],
  [0.25, 0.25, 0.25, 0.25],
  [0.05, 0.05, 0.6, 0.3],
  [0.5, 0.9, 0.3, 0.3],
]);
const onehot = tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
// int32 labels cast to float32 (on a GPU their buffer stays int32).
const castLabels = tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]], undefined, 'int32').toFloat();
const fusedWith = (targets: tf.Tensor) => (p: tf.Tensor) => tf.engine().runKernel('FusedCategoricalCrossentropy', { probabilities: p, targets }, { epsilon: 1e-7 }) as tf.Tensor;
const fused = fusedWith(onehot);
const layersLoss = (p: tf.Tensor) => tf.metrics.categoricalCrossentropy(onehot, p);
// A weight per row, so the gradient's upstream is not all ones.
const weights = tf.tensor1d([1, 2, 0.5, 3]);
const gradOf = (loss: (p: tf.Tensor) => tf.Tensor) => tf.grad((p: tf.Tensor) => tf.sum(tf.mul(loss(p), weights)))(probs);
console.log(JSON.stringify({
  fused: Array.from(await fused(probs).data()), layers: Array.from(await layersLoss(probs).data()),
  fusedGrad: Array.from(await gradOf(fused).data()), layersGrad: Array.from(await gradOf(layersLoss).data()),
  castLabels: Array.from(await fusedWith(castLabels)(probs).data()),
}));`;

for (const device of ['cpu', 'gpu:0']) {
  describe(`the fused categorical crossentropy on ${device}`, () => {
    const kernel = useDeviceKernel();
    before(async () => {
      await runOk(kernel(), `%device ${device}`);
      // A GPU backend gets the kernels at its first trainStep with this loss.
      await runOk(kernel(), `const tiny = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'softmax' })] });
tiny.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
tiny.trainStep(tf.ones([2, 3]), tf.oneHot([1, 2], 4).toFloat()).dispose();`);
    });

    test("its loss and gradient are tfjs-layers' (relative 1e-6), a clipped probability's gradient 0", async () => {
      const result = JSON.parse(await printed(kernel(), LOSS_CASE)) as Record<'fused' | 'layers' | 'fusedGrad' | 'layersGrad' | 'castLabels', number[]>;
      assert.ok(maxRelative(result.fused, result.layers) <= 1e-6, JSON.stringify(result));
      assert.ok(maxRelative(result.fusedGrad, result.layersGrad) <= 1e-6, JSON.stringify(result));
      assert.deepEqual(result.castLabels, result.fused, 'int32 labels cast to float32 give the same loss');
      // Row 0's last probability lies below ε: clipped, no gradient (its target is 0 too, so the
      // sum's share is what is left, as in tfjs's chain). Row 3 sums to 2: scaled before the log.
      assert.ok(result.layersGrad.some((value) => value !== 0) && result.fusedGrad.every(Number.isFinite), JSON.stringify(result));
    });

    // A diverged model's loss must read NaN: WGSL's clamp(NaN) gave ε on lavapipe (-log ε ≈ 16.1
    // for ever after). tfjs-layers' own loss reads NaN on gpu:0 but 16.1 on cpu (wasm's
    // ClipByValue clamps NaN): the fused loss reads NaN on both.
    test('a row of NaN probabilities gives a NaN loss', async () => {
      const losses = JSON.parse(await printed(kernel(), `{
  const p = tf.tensor2d([[0.7, 0.2, 0.1], [NaN, NaN, NaN]]), t = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
  const fused = tf.engine().runKernel('FusedCategoricalCrossentropy', { probabilities: p, targets: t }, { epsilon: 1e-7 }) as tf.Tensor;
  console.log(JSON.stringify({ fused: Array.from(await fused.data()).map(String), layers: Array.from(await tf.metrics.categoricalCrossentropy(t, p).data()).map(String) }));
}`)) as { fused: string[]; layers: string[] };
      assert.equal(losses.fused[1], 'NaN', JSON.stringify(losses));
      assert.ok(Math.abs(Number(losses.fused[0]) - Number(losses.layers[0])) <= 1e-6 * Number(losses.layers[0]), JSON.stringify(losses));
    });
  });
}

/** x and dy from a seeded generator, the filter gradient by the kernel, and the reference by definition. */
function convCase(strides: number, pad: 'valid' | 'same'): string {
  return `{
  let seed = 12345;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
  const [batch, height, width, inC, outC, k, s] = [3, 9, 8, 3, 5, 3, ${strides}];
  const pad: 'valid' | 'same' = ['valid', 'same'][${pad === 'same' ? 1 : 0}] as 'valid' | 'same';
  const xv = Float32Array.from({ length: batch * height * width * inC }, next);
  const x = tf.tensor4d(xv, [batch, height, width, inC]);
  const y = tf.conv2d(x, tf.zeros([k, k, inC, outC]) as tf.Tensor4D, s, pad);
  const [outH, outW] = [y.shape[1], y.shape[2]];
  const dyv = Float32Array.from({ length: batch * outH * outW * outC }, next);
  const dy = tf.tensor4d(dyv, [batch, outH, outW, outC]);
  const ours = await (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [s, s], pad, dataFormat: 'NHWC', filterShape: [k, k, inC, outC] }) as tf.Tensor).data();
  const top = pad === 'same' ? Math.floor(Math.max((outH - 1) * s + k - height, 0) / 2) : 0;
  const left = pad === 'same' ? Math.floor(Math.max((outW - 1) * s + k - width, 0) / 2) : 0;
  const expected = new Float32Array(k * k * inC * outC);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) {
    let sum = 0;
    for (let b = 0; b < batch; b++) for (let yr = 0; yr < outH; yr++) for (let yc = 0; yc < outW; yc++) {
      const [xr, xc] = [r + yr * s - top, c + yc * s - left];
      if (xr < 0 || xr >= height || xc < 0 || xc >= width) continue;
      sum += xv[((b * height + xr) * width + xc) * inC + i]! * dyv[((b * outH + yr) * outW + yc) * outC + o]!;
    }
    expected[((r * k + c) * inC + i) * outC + o] = sum;
  }
  console.log(JSON.stringify({ backend: tf.getBackend(), equal: expected.every((v, i) => Object.is(v, ours[i])), first: [expected[0], ours[0]] }));
}`;
}

describe("wasm's convolution filter gradient", () => {
  const kernel = useDeviceKernel();
  before(async () => {
    await runOk(kernel(), '%device cpu');
  });
  for (const [strides, pad] of [[1, 'valid'], [2, 'same']] as const) {
    test(`strides ${strides}, '${pad}': the definition's sums in tfjs-backend-cpu's order, bit for bit, and it runs on wasm`, async () => {
      const result = JSON.parse(await printed(kernel(), convCase(strides, pad))) as { backend: string; equal: boolean; first: number[] };
      assert.equal(result.backend, 'wasm', 'the cpu device is the wasm backend');
      assert.ok(result.equal, JSON.stringify(result));
    });
  }
});

// model.trainStep on a software GPU takes its convolutions directly (train/conv-gpu.ts): a model
// whose layers reach every variant the training takes (channels in fours and not, 'same' padding,
// bias; the first layer's input gradient is not taken), with a stride of 2 left to tfjs, trains a
// few steps with trainStep and, from the same weights, with trainOnBatch (tfjs's kernels throughout). Each weight tensor must agree to 1e-5 of its
// largest value and have moved from where it started by more than that; tfjs's pipeline cache
// must hold the direct shaders (else the comparison proved nothing).
const DIRECT_CONV_CASE = `{
  let seed = 777;
  const next = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5;
  const build = () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [10, 9, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.conv2d({ filters: 4, kernelSize: 2 }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, strides: 2, useBias: false }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ] });
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    return model;
  };
  const viaTfjs = build(), viaStep = build();
  viaStep.setWeights(viaTfjs.getWeights());
  const start = await Promise.all(viaTfjs.getWeights().map((w) => w.data()));
  const x = tf.tensor4d(Float32Array.from({ length: 5 * 10 * 9 }, next), [5, 10, 9, 1]);
  const y = tf.oneHot([0, 2, 1, 1, 0], 3).toFloat();
  for (let step = 0; step < 3; step++) {
    await viaTfjs.trainOnBatch(x, y);
    viaStep.trainStep(x, y).dispose();
  }
  const maxAbs = (values: ArrayLike<number>, minus?: ArrayLike<number>) => Array.from(values).reduce((most, v, i) => Math.max(most, Math.abs(v - (minus ? minus[i]! : 0))), 0);
  const stepWeights = viaStep.getWeights();
  const weights = await Promise.all(viaTfjs.getWeights().map(async (w, i) => {
    const [tfjs, step] = [await w.data(), await stepWeights[i]!.data()];
    return { shape: w.shape.join('x'), size: maxAbs(tfjs), differ: maxAbs(step, tfjs), moved: maxAbs(tfjs, start[i]!) };
  }));
  const shaders = Object.keys((tf.backend() as unknown as { pipelineCache: object }).pipelineCache).filter((key) => key.startsWith('tsgpu_conv'));
  console.log(JSON.stringify({ weights, shaders }));
}`;

/** Makes the first software GPU current; false (the test skipped) where there is none. */
async function onSoftwareGpu(kernel: KernelClient, t: TestContext): Promise<boolean> {
  const gpus = parseTextTable(await printed(kernel, '%devices'))?.rows.filter((row) => row.cells[1] === 'gpu (software)') ?? [];
  if (gpus.length === 0) {
    t.skip('no software GPU: the direct convolutions are installed on software GPUs only');
    return false;
  }
  await runOk(kernel, `%device ${gpus[0]!.cells[0]!.replace(/^\*\s*/, '')}`);
  return true;
}

describe('model.trainStep\'s direct convolutions on a software GPU', () => {
  const kernel = useDeviceKernel();

  test("weights after 3 steps equal trainOnBatch's with tfjs's kernels (1e-5 of each tensor's largest value), and the direct shaders ran", async (t) => {
    if (!(await onSoftwareGpu(kernel(), t))) return;
    const result = JSON.parse(await printed(kernel(), DIRECT_CONV_CASE)) as { weights: { shape: string; size: number; differ: number; moved: number }[]; shaders: string[] };
    t.diagnostic(`weights ${JSON.stringify(result.weights)}; shaders ${result.shaders.map((key) => key.split('_').slice(0, 5).join('_')).join(' ')}`);
    assert.equal(result.weights.length, 9, 'four kernels, three biases and the dense layer\'s two');
    for (const weight of result.weights) {
      assert.ok(weight.differ <= 1e-5 * weight.size, `${weight.shape}: trainStep's weights differ from trainOnBatch's by ${weight.differ} (largest ${weight.size})`);
      assert.ok(weight.moved > 1e-5 * weight.size, `${weight.shape}: moved ${weight.moved} in 3 steps: nothing to compare`);
    }
    // In training tfjs-core splits a fused convolution into Conv2D, the bias and the activation.
    for (const variant of ['conv_plain_linear_4', 'conv_plain_linear_1', 'conv_filter_gradient_4', 'conv_filter_gradient_1', 'conv_input_gradient_4', 'conv_input_gradient_1']) {
      assert.ok(result.shaders.some((key) => key.startsWith(`tsgpu_${variant}_`)), `the direct shader ${variant} ran: ${result.shaders.join(' ')}`);
    }
  });

  // A dense layer from 2,400 inputs to 12 units (tfjs splits that product along its inner dimension,
  // adding the parts with atomics), then 12 to 4: every product small enough for the direct ones.
  test("dense layers: weights after 3 steps equal trainOnBatch's (1e-5), and the direct products ran", async (t) => {
    if (!(await onSoftwareGpu(kernel(), t))) return;
    const result = JSON.parse(await printed(kernel(), DIRECT_CONV_CASE
      .replace(/tf\.sequential\(\{ layers: \[[\s\S]*?\] \}\)/, `tf.sequential({ layers: [
      tf.layers.dense({ inputShape: [2400], units: 12, activation: 'relu' }),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    ] })`)
      .replace('Float32Array.from({ length: 5 * 10 * 9 }, next), [5, 10, 9, 1]', 'Float32Array.from({ length: 5 * 2400 }, next), [5, 2400]').replace('tf.tensor4d', 'tf.tensor2d')
      .replace("tf.oneHot([0, 2, 1, 1, 0], 3)", "tf.oneHot([0, 2, 1, 3, 0], 4)")
      .replace("startsWith('tsgpu_conv')", "startsWith('tsgpu_matmul')"))) as { weights: { shape: string; size: number; differ: number; moved: number }[]; shaders: string[] };
    t.diagnostic(`weights ${JSON.stringify(result.weights)}; shaders ${result.shaders.map((key) => key.split('_').slice(0, 5).join('_')).join(' ')}`);
    assert.equal(result.weights.length, 4, 'two kernels, two biases');
    for (const weight of result.weights) {
      assert.ok(weight.differ <= 1e-5 * weight.size, `${weight.shape}: trainStep's weights differ from trainOnBatch's by ${weight.differ} (largest ${weight.size})`);
      assert.ok(weight.moved > 1e-5 * weight.size, `${weight.shape}: moved ${weight.moved} in 3 steps: nothing to compare`);
    }
    // In training tfjs-core splits a fused product into the product, the bias and the activation.
    assert.ok(result.shaders.some((key) => key.startsWith('tsgpu_matmul_plain_linear_')), `the direct product ran: ${result.shaders.join(' ')}`);
  });

  // %profile named the direct kernels as tfjs's ops: a user profiling trainStep read "Conv2D 42 ms"
  // as tfjs's convolution. Their rows are their own, with their GPU time; trainOnBatch's stay tfjs's.
  test('%%profile names the direct kernels apart, with their GPU time; trainOnBatch\'s ops are tfjs\'s', async (t) => {
    if (!(await onSoftwareGpu(kernel(), t))) return;
    await runOk(kernel(), `const profiled = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 4, kernelSize: 3, activation: 'relu' }), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' })] });
profiled.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
const profiledX = tf.randomNormal([3, 6, 6, 1]), profiledY = tf.oneHot([0, 1, 1], 2).toFloat();
await profiled.trainOnBatch(profiledX, profiledY); const warm = profiled.trainStep(profiledX, profiledY); await warm.data(); warm.dispose(); 0`);
    const rowsOf = async (code: string) => theReport(await runOk(kernel(), `%%profile\n${code}`)).meta.profile ?? [];
    const step = await rowsOf('const stepLoss = profiled.trainStep(profiledX, profiledY); await stepLoss.data(); stepLoss.dispose();');
    const direct = step.filter((row) => row.op.endsWith(' (tsgpu direct)'));
    t.diagnostic(JSON.stringify(step.map(({ op, calls, gpuMs }) => ({ op, calls, gpuMs }))));
    for (const op of ['Conv2D', 'Conv2DBackpropFilter', 'BatchMatMul']) {
      const row = direct.find((one) => one.op === `${op} (tsgpu direct)`);
      assert.ok(row !== undefined, `no "${op} (tsgpu direct)" row in trainStep's profile: ${JSON.stringify(step)}`);
      assert.ok(row.gpuMs !== null && row.gpuMs > 0, `${row.op}: GPU time ${row.gpuMs}`);
      assert.equal(step.some((one) => one.op === op && one.device === row.device), false, `trainStep's ${op} ran as tfjs's too: ${JSON.stringify(step)}`);
    }
    const tfjs = await rowsOf('await profiled.trainOnBatch(profiledX, profiledY);');
    assert.equal(tfjs.filter((row) => row.op.includes('tsgpu direct')).length, 0, JSON.stringify(tfjs));
    assert.ok(tfjs.some((row) => row.op === 'Conv2D' && row.gpuMs !== null && row.gpuMs > 0), JSON.stringify(tfjs));
  });

  // tfjs-backend-webgpu casts int32 to float32 by sharing the buffer: a float32 input the direct
  // shaders read as i32 (vec4<f32>(i32) does not compile; the step's results were zeros).
  test('an input cast from int32 (pixels.toFloat()) trains as with trainOnBatch', async (t) => {
    if (!(await onSoftwareGpu(kernel(), t))) return;
    const losses = JSON.parse(await printed(kernel(), `{
      const build = () => {
        const model = tf.sequential({ layers: [
          tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
          tf.layers.conv2d({ filters: 3, kernelSize: 2 }),
          tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' }),
        ] });
        model.compile({ optimizer: tf.train.sgd(0.001), loss: 'categoricalCrossentropy' });
        return model;
      };
      const viaTfjs = build(), viaStep = build();
      viaStep.setWeights(viaTfjs.getWeights());
      const x = tf.tensor4d(Int32Array.from({ length: 2 * 36 }, (_, i) => (i * 37) % 256), [2, 6, 6, 1], 'int32').toFloat();
      const y = tf.oneHot([0, 1], 2).toFloat();
      const step = viaStep.trainStep(x, y);
      console.log(JSON.stringify([await viaTfjs.trainOnBatch(x, y), (await step.data())[0]]));
    }`)) as [number, number];
    // Inputs up to 255, summed in another order by the direct shaders (and tfjs's own split with
    // atomics, in no fixed order): a CI run differed by 1.6e-5 of the loss. The bug gave zeros.
    assert.ok(Math.abs(losses[1] - losses[0]) <= 1e-4 * Math.abs(losses[0]), `trainStep's loss ${losses[1]}, trainOnBatch's ${losses[0]}`);
  });

  // An interrupt stops a synchronous loop with no \`finally\` run: a step stopped midway left the
  // fast path on (plain trainOnBatch on the direct kernels ever after) and the model on the fused loss.
  test('a trainStep interrupted midway leaves trainOnBatch on tfjs\'s kernels and the compiled loss', async (t) => {
    if (!(await onSoftwareGpu(kernel(), t))) return;
    const fastPath = JSON.stringify(path.resolve(__dirname, '../../kernel/device/train/fast-path.js'));
    await runOk(kernel(), `const stuck = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [5, 5, 1], filters: 4, kernelSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' })] });
let spin = false;
stuck.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: [(yTrue: tf.Tensor, yPred: tf.Tensor) => { if (spin) { console.log('in the step'); while (spin) {} } return tf.metrics.categoricalAccuracy(yTrue, yPred); }] });
const compiledLoss = (stuck as any).model.lossFunctions[0];
const stuckX = tf.randomNormal([2, 5, 5, 1]), stuckY = tf.oneHot([0, 1], 2).toFloat();
stuck.trainStep(stuckX, stuckY).dispose(); 0`);
    // The interrupt must land inside the step: the metric says when it spins there.
    const running = kernel().startExecute('spin = true;\nstuck.trainStep(stuckX, stuckY);', {}, { timeoutMs: 60_000 });
    await running.iopubMessage('stream');
    await sleep(300);
    await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
    await running.done();
    const state = JSON.parse(await printed(kernel(), `spin = false;
const before = Object.keys((tf.backend() as any).pipelineCache).filter((key) => key.startsWith('tsgpu_conv')).length;
const plain = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [7, 6, 3], filters: 3, kernelSize: 2 }), tf.layers.flatten(), tf.layers.dense({ units: 2, activation: 'softmax' })] });
plain.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
await plain.trainOnBatch(tf.randomNormal([2, 7, 6, 3]), tf.oneHot([0, 1], 2).toFloat());
console.log(JSON.stringify({ onFastPath: require(${fastPath}).onFastPath(), lossRestored: (stuck as any).model.lossFunctions[0] === compiledLoss,
  directShaders: Object.keys((tf.backend() as any).pipelineCache).filter((key) => key.startsWith('tsgpu_conv')).length - before }));`)) as { onFastPath: boolean; lossRestored: boolean; directShaders: number };
    assert.deepEqual(state, { onFastPath: false, lossRestored: true, directShaders: 0 });
  });
});
