// Direct matrix products for model.trainStep on a software GPU. The bench's CNN ends in a dense
// layer from 9,216 inputs to 10 units: its forward product ([64 × 9216] · [9216 × 10]) and its two
// gradients took ~36 ms of a ~163 ms GPU step on lavapipe (`%%profile` of one step). tfjs runs a
// product with a small output split along the inner dimension, its partial sums added with
// atomics (a float atomic is a compare-and-swap loop on a CPU), or in small tiles, laid out for a
// GPU's many threads. Here one invocation per output element sums its row and column in order
// (fma), for those products only (tfjsFewWorkgroups). Float32, rank 2 or 3 with the batch equal or
// 1 on either side, transposes by strides; a fused product's bias (one value per output column)
// and relu or no activation. Anything else goes to tfjs.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { TfCoreModule } from '../tfjs';
import { wrapForFastPath } from './fast-path';
import { flatProgram, runFlatProgram, type Uniform } from './gpu-program';

// dims: M, N, K, batch; a: A's strides for the batch, a row (i), the inner index (k); b: B's for
// the batch, the inner index (k), a column (j).
const UNIFORMS = 'dims: vec4<i32>, a: vec4<i32>, b: vec4<i32>,';

function shader(bias: boolean, relu: boolean): string {
  return `
  fn main(index: i32) {
    if (index >= uniforms.size) { return; }
    let M = uniforms.dims.x; let N = uniforms.dims.y; let K = uniforms.dims.z;
    let j = index % N; let rest = index / N;
    let i = rest % M; let batch = rest / M;
    var aAt = batch * uniforms.a.x + i * uniforms.a.y;
    var bAt = batch * uniforms.b.x + j * uniforms.b.z;
    var acc = 0.0;
    for (var k = 0; k < K; k++) {
      acc = fma(f32(A[aAt]), f32(B[bAt]), acc);
      aAt = aAt + uniforms.a.z;
      bAt = bAt + uniforms.b.y;
    }
    ${bias ? 'acc = acc + f32(bias[j]);' : ''}
    ${relu ? 'acc = max(acc, 0.0);' : ''}
    result[index] = acc;
  }`;
}

interface Product {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** Strides as the uniforms take them (see UNIFORMS). */
  a: [number, number, number, number];
  b: [number, number, number, number];
}

/** The product's geometry, or null for tfjs's kernel. */
function productOf(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Product | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || a.shape.length > 3 || b.shape.length < 2 || b.shape.length > 3) return null;
  const [aBatch, aRows, aCols] = a.shape.length === 3 ? a.shape as [number, number, number] : [1, ...a.shape] as [number, number, number];
  const [bBatch, bRows, bCols] = b.shape.length === 3 ? b.shape as [number, number, number] : [1, ...b.shape] as [number, number, number];
  if (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1) return null;
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kB, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== kB) return null;
  return {
    batch: Math.max(aBatch, bBatch), m, n, k,
    // A[batch, i, k]: row-major [rows, cols]; transposed, i walks the columns.
    a: [aBatch === 1 ? 0 : aRows * aCols, transposeA ? 1 : aCols, transposeA ? aCols : 1, 0],
    b: [bBatch === 1 ? 0 : bRows * bCols, transposeB ? 1 : bCols, transposeB ? bCols : 1, 0],
  };
}

function uniformsOf(p: Product): Uniform[] {
  return [{ type: 'int32', data: [p.m, p.n, p.k, p.batch] }, { type: 'int32', data: p.a }, { type: 'int32', data: p.b }];
}

/**
 * Whether tfjs would run the product with few workgroups (split along the inner dimension, or in
 * small tiles): its rule in tfjs-backend-webgpu 4.22 (kernels/BatchMatMul_impl.js), with the
 * threshold it takes for any GPU but Intel's. Only there is the direct product faster on lavapipe
 * (`npm run bench:train-kernels`): the CNN's dense forward 0.42× tfjs's, the MLP's output layer 0.35×;
 * where tfjs tiles a larger output 32 × 32 (the MLP's hidden layer), its product was twice as fast.
 */
function tfjsFewWorkgroups(p: Product): boolean {
  const threshold = 8;
  const groups = p.batch * Math.ceil(p.m / 32) * Math.ceil(p.n / 32);
  return groups <= threshold || (p.m <= 8 && groups <= threshold * 2);
}

/** The output's shape as tfjs gives it: the inputs' batch (if any) then [M, N]. */
function outputShape(a: TensorInfo, b: TensorInfo, p: Product): number[] {
  return a.shape.length === 3 || b.shape.length === 3 ? [p.batch, p.m, p.n] : [p.m, p.n];
}

/** Registers the direct products for model.trainStep on `backendName`, a software GPU's backend. */
export function installDirectMatMuls(core: TfCoreModule, backendName: string): void {
  const product = (args: Parameters<KernelFunc>[0], fused: boolean): TensorInfo | null => {
    const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean; activation?: string };
    const activation = fused ? attrs.activation ?? 'linear' : 'linear';
    if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
    const p = productOf(a, b, attrs.transposeA ?? false, attrs.transposeB ?? false);
    // A bias broadcast from anything but one value per output column goes to tfjs.
    if (!p || !tfjsFewWorkgroups(p) || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== p.n))) return null;
    const relu = activation === 'relu';
    const made = flatProgram({
      shaderKey: `tsgpu_matmul_${bias ? 'bias' : 'plain'}_${activation}`, variableNames: bias ? ['A', 'B', 'bias'] : ['A', 'B'],
      outputShape: outputShape(a, b, p), invocations: p.batch * p.m * p.n, uniforms: UNIFORMS, code: () => shader(bias !== undefined, relu), size: true,
    });
    return runFlatProgram(args.backend, made, bias ? [a, b, bias] : [a, b], uniformsOf(p));
  };
  wrapForFastPath(core, 'BatchMatMul', backendName, (args) => product(args, false));
  wrapForFastPath(core, '_FusedMatMul', backendName, (args) => product(args, true));
}
