// model.trainStep's kernels of its own on gpu:0 against tfjs-backend-webgpu's, on the shapes of
// bench:train's models: the CNN's convolutions (kernel/device/train/conv-gpu.ts: 3×3 filters, 1→8
// and 8→16 channels, 64 images of 28×28; forward with bias and relu, filter gradient, input
// gradient) and the small matrix products (kernel/device/train/matmul-gpu.ts: the CNN's dense
// layer from 9,216 inputs to 10 units, the MLP's output layer from 256 to 10), in one plain Node
// process, each timed from dispatch to its result read back (the GPU idle before), median of
// --reps, alternating the two. The largest difference between the two results is printed beside
// each row. Products where tfjs tiles its output 32 × 32 (the MLP's hidden layer, 784→256) keep
// tfjs's kernel in trainStep: the direct one took twice as long there.
//
//   npm run bench:train-kernels [-- --reps 7]
//
// On a hardware GPU the kernel keeps tfjs's kernels (the direct ones are installed for software
// GPUs only); this bench times both wherever it runs.
import { performance } from 'node:perf_hooks';
import * as os from 'node:os';
import type { Tensor } from '@tensorflow/tfjs-core';
import { installDirectConvolutions } from '../kernel/device/train/conv-gpu';
import { installDirectMatMuls } from '../kernel/device/train/matmul-gpu';
import { inFastPath } from '../kernel/device/train/fast-path';
import { median, repsOption } from './lib/kernels';
import { rawTfjs } from './lib/raw-tfjs';

async function main(): Promise<void> {
  const reps = repsOption(process.argv.slice(2), 7, 'usage: node dist/bench/train-kernels.js [--reps N]');
  const { tf } = await rawTfjs('gpu:0');
  installDirectConvolutions(tf, tf.getBackend());
  installDirectMatMuls(tf, tf.getBackend());
  const random = (shape: number[]): Tensor => tf.randomNormal(shape, 0, 1, 'float32', 42);
  const [x1, w1, b1, dy1] = [random([64, 28, 28, 1]), random([3, 3, 1, 8]), random([8]), random([64, 26, 26, 8])];
  const [x2, w2, b2, dy2] = [random([64, 26, 26, 8]), random([3, 3, 8, 16]), random([16]), random([64, 24, 24, 16])];
  const [flat, dense, denseBias, denseDy] = [random([64, 9216]), random([9216, 10]), random([10]), random([64, 10])];
  const [hidden, out, outBias, outDy] = [random([128, 256]), random([256, 10]), random([10]), random([128, 10])];
  const filterGradient = (x: Tensor, dy: Tensor, filterShape: number[]) => (): Tensor =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape }) as Tensor;
  const inputGradient = (dy: Tensor, filter: Tensor, inputShape: number[]) => (): Tensor =>
    tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { inputShape, strides: 1, pad: 'valid', dataFormat: 'NHWC' }) as Tensor;
  const cases: [string, () => Tensor][] = [
    ['conv1 forward (1→8, bias, relu)', () => tf.fused.conv2d({ x: x1 as never, filter: w1 as never, strides: 1, pad: 'valid', bias: b1, activation: 'relu' })],
    ['conv2 forward (8→16, bias, relu)', () => tf.fused.conv2d({ x: x2 as never, filter: w2 as never, strides: 1, pad: 'valid', bias: b2, activation: 'relu' })],
    ['conv1 filter gradient', filterGradient(x1, dy1, [3, 3, 1, 8])],
    ['conv2 filter gradient', filterGradient(x2, dy2, [3, 3, 8, 16])],
    ['conv2 input gradient', inputGradient(dy2, w2, [64, 26, 26, 8])],
    ['CNN dense forward (9216→10, bias)', () => tf.fused.matMul({ a: flat, b: dense, bias: denseBias })],
    ['CNN dense weight gradient', () => tf.matMul(flat, denseDy, true, false)],
    ['MLP output forward (256→10, bias)', () => tf.fused.matMul({ a: hidden, b: out, bias: outBias })],
    ['MLP output weight gradient', () => tf.matMul(hidden, outDy, true, false)],
  ];
  const timed = async (run: () => Tensor): Promise<{ ms: number; values: Float32Array }> => {
    const started = performance.now();
    const result = run();
    const values = await result.data() as Float32Array;
    const ms = performance.now() - started;
    result.dispose();
    return { ms, values };
  };
  console.log(`gpu:0, median of ${reps} (after one of each to compile); load average ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  console.log(`${'kernel'.padEnd(36)}${'tfjs ms'.padStart(9)}${'direct ms'.padStart(11)}${'ratio'.padStart(8)}   max difference`);
  let [tfjsTotal, directTotal] = [0, 0];
  for (const [name, run] of cases) {
    const direct = (): Tensor => inFastPath(run);
    const [first, second] = [await timed(run), await timed(direct)];
    let [difference, largest] = [0, 0];
    first.values.forEach((value, i) => {
      difference = Math.max(difference, Math.abs(value - second.values[i]!));
      largest = Math.max(largest, Math.abs(value));
    });
    const [tfjsMs, directMs]: number[][] = [[], []];
    for (let rep = 0; rep < reps; rep++) {
      tfjsMs.push((await timed(run)).ms);
      directMs.push((await timed(direct)).ms);
    }
    const [ours, theirs] = [median(directMs), median(tfjsMs)];
    tfjsTotal += theirs;
    directTotal += ours;
    console.log(`${name.padEnd(36)}${theirs.toFixed(1).padStart(9)}${ours.toFixed(1).padStart(11)}${`${(ours / theirs).toFixed(2)}x`.padStart(8)}   ${difference.toExponential(1)} of ${largest.toFixed(1)}`);
  }
  console.log(`${`all ${cases.length}`.padEnd(36)}${tfjsTotal.toFixed(1).padStart(9)}${directTotal.toFixed(1).padStart(11)}${`${(directTotal / tfjsTotal).toFixed(2)}x`.padStart(8)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
