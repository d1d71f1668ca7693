// tfjs-backend-wasm 4.22's BatchMatMul multiplies through XNNPACK only when `a` is not transposed;
// with transposeA (the weight gradient x^T·dy each dense layer's backward pass takes) it runs a
// plain loop, ~10× slower: [128,784]^T·[128,256] took 28.8 ms, against 2.9 ms for wasm's
// Transpose of x then XNNPACK's product. Inside model.trainStep such a product is taken that way.
// The sums run in XNNPACK's order: elements differ from the plain loop's by up to ~1e-6
// relative, which is why trainOnBatch and fit keep the plain loop (tfjs's numbers, bit for bit).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { TfCoreModule } from '../tfjs';
import { onFastPath } from './fast-path';

interface WasmDisposer {
  disposeData(dataId: object): boolean;
}

/** Wraps wasm's BatchMatMul (registered by tfjs-backend-wasm when it loaded); no-op without it. */
export function installTransposedMatMul(core: TfCoreModule): void {
  const product = core.getKernel('BatchMatMul', 'wasm');
  const transpose = core.getKernel('Transpose', 'wasm');
  if (!product || !transpose) return;
  const multiply = product.kernelFunc;
  const wrapped: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!onFastPath() || !attrs.transposeA) return multiply(args);
    const rank = a.shape.length;
    const perm = [...a.shape.keys()].map((axis) => (axis < rank - 2 ? axis : axis === rank - 2 ? rank - 1 : rank - 2));
    const transposed = transpose.kernelFunc({ inputs: { x: a }, backend: args.backend, attrs: { perm } }) as TensorInfo;
    try {
      return multiply({ inputs: { a: transposed, b }, backend: args.backend, attrs: { ...attrs, transposeA: false } });
    } finally {
      (args.backend as unknown as WasmDisposer).disposeData(transposed.dataId);
    }
  };
  core.unregisterKernel('BatchMatMul', 'wasm');
  core.registerKernel({ ...product, kernelFunc: wrapped } as KernelConfig);
}
