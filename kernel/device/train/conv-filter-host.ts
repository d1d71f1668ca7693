// Conv2DBackpropFilter (a convolution's filter gradient) for the wasm backend, which has none:
// without it every training step of a convolution moves x and dy to tfjs-backend-cpu, whose loop
// reads each element through TensorBuffer.get (~6 s a step for the benchmark's small CNN). This
// loop reads the wasm heap directly. Each filter element is the same sum as tfjs-backend-cpu's,
// taken in the same order (batch, output row, output column) in double precision and rounded once
// to f32, so the gradients are tfjs-backend-cpu's bit for bit; only the order in which the filter
// elements are visited changed (all of one filter tap's channels together, for locality).
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import type { DataId } from '../engine-internals';
import type { TfCoreModule } from '../tfjs';

/** The part of tfjs-backend-wasm 4.22's backend (dist/backend_wasm.js) the loop reads. */
interface WasmBackendInternals {
  typedArrayFromHeap(info: { shape: number[]; dtype: string; dataId: DataId }): Float32Array;
  makeOutput(shape: number[], dtype: string): TensorInfo;
}

interface FilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | unknown;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function heapOf(backend: WasmBackendInternals, tensor: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap({ shape: tensor.shape, dtype: tensor.dtype, dataId: tensor.dataId as DataId });
}

export function installWasmConvFilterGradient(core: TfCoreModule): void {
  if (core.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const kernel: KernelConfig = {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as FilterAttrs;
      if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('conv2dBackpropFilter on wasm: float32 only');
      const info = core.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad as 'valid',
        dimRoundingMode, false, core.backend_util.convertConv2DDataFormat(dataFormat));
      const wasm = backend as unknown as WasmBackendInternals;
      const output = wasm.makeOutput(info.filterShape, 'float32');
      // Views made after the allocation, which may have grown (and so replaced) the heap.
      const [xs, dys, dw] = [heapOf(wasm, x), heapOf(wasm, dy), heapOf(wasm, output)];
      const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
      const last = info.dataFormat === 'channelsLast';
      // Element strides: batch, row, column, channel.
      const [xB, xRow, xCol, xCh] = last ? [inHeight * inWidth * inChannels, inWidth * inChannels, inChannels, 1] : [inChannels * inHeight * inWidth, inWidth, 1, inHeight * inWidth];
      const [dyB, dyRow, dyCol, dyCh] = last ? [outHeight * outWidth * outChannels, outWidth * outChannels, outChannels, 1] : [outChannels * outHeight * outWidth, outWidth, 1, outHeight * outWidth];
      const [top, left, batch] = [info.padInfo.top, info.padInfo.left, info.batchSize];
      const sums = new Float64Array(inChannels * outChannels);
      for (let wR = 0; wR < filterHeight; ++wR) {
        // tfjs-backend-cpu's bounds (a fractional upper bound included).
        const yRMin = Math.max(0, Math.ceil((top - wR) / strideHeight));
        const yRMax = Math.min(outHeight, (inHeight + top - wR) / strideHeight);
        for (let wC = 0; wC < filterWidth; ++wC) {
          const yCMin = Math.max(0, Math.ceil((left - wC) / strideWidth));
          const yCMax = Math.min(outWidth, (inWidth + left - wC) / strideWidth);
          sums.fill(0);
          for (let b = 0; b < batch; ++b) {
            for (let yR = yRMin; yR < yRMax; ++yR) {
              const xR = wR + yR * strideHeight - top;
              for (let yC = yCMin; yC < yCMax; ++yC) {
                const xC = wC + yC * strideWidth - left;
                const xAt = b * xB + xR * xRow + xC * xCol;
                const dyAt = b * dyB + yR * dyRow + yC * dyCol;
                for (let d1 = 0, row = 0; d1 < inChannels; ++d1, row += outChannels) {
                  const xv = xs[xAt + d1 * xCh]!;
                  for (let d2 = 0; d2 < outChannels; ++d2) sums[row + d2] += xv * dys[dyAt + d2 * dyCh]!;
                }
              }
            }
          }
          dw.set(sums, (wR * filterWidth + wC) * inChannels * outChannels);
        }
      }
      return output;
    },
  };
  core.registerKernel(kernel);
}
