// tfjs-layers' categoricalCrossentropy (on probabilities: each row scaled to sum 1, clipped to
// [ε, 1 - ε], -Σ t·log) as one kernel, `FusedCategoricalCrossentropy`, with its gradient as one more,
// where tfjs-layers makes ~10 ops forward and ~25 backward. model.trainStep uses it (the fastest
// path); trainOnBatch and fit keep tfjs-layers' loss, op for op. The result is the same function
// taken in another floating-point order: the loss after 100 Adam steps of the seed's MLP differed
// from tfjs's by 2.3e-7 relative on cpu with this loss alone, and was equal on gpu:0 and (with the
// XNNPACK products too) on cpu in the benchmark (test/protocol/devices-training.test.ts allows 1e-5).
// TSGPU_FUSED_LOSS=off leaves tfjs-layers' loss in model.trainStep too.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendLike, EngineLike, TensorLike } from '../engine-internals';
import { isWasmBackend, isWebGpuBackend } from '../transfer/gpu-types';
import type { TfCoreModule } from '../tfjs';
import { crossentropyGradientOnGpu, crossentropyOnGpu } from './crossentropy-gpu';
import { crossentropyGradientOnWasm, crossentropyOnWasm } from './crossentropy-host';

export const FUSED_CROSSENTROPY = 'FusedCategoricalCrossentropy';
export const FUSED_CROSSENTROPY_GRAD = 'FusedCategoricalCrossentropyGrad';

export interface CrossentropyCall {
  /** [rows, classes] float32: the model's output. */
  probabilities: TensorInfo;
  /** [rows, classes] float32. */
  targets: TensorInfo;
  epsilon: number;
}

type Kernels = { forward: (backend: object, call: CrossentropyCall) => TensorInfo; gradient: (backend: object, call: CrossentropyCall & { upstream: TensorInfo }) => TensorInfo };

const ON_GPU: Kernels = { forward: crossentropyOnGpu, gradient: crossentropyGradientOnGpu };
const ON_WASM: Kernels = { forward: crossentropyOnWasm, gradient: crossentropyGradientOnWasm };

/** The per-sample loss [rows] of (targets, probabilities), or null where the fused kernel cannot run it. */
export type FusedCrossentropy = (targets: TensorLike, probabilities: TensorLike) => TensorLike | null;

let installed: FusedCrossentropy | null = null;

/** The fused loss installFusedCrossentropy made; null before it or with TSGPU_FUSED_LOSS=off. */
export function fusedCrossentropy(): FusedCrossentropy | null {
  return installed;
}

/** Registers the kernels (wasm now, so that placement lists them; a GPU backend at its first use) and their gradient. */
export function installFusedCrossentropy(core: TfCoreModule): void {
  if (process.env['TSGPU_FUSED_LOSS'] === 'off') return;
  const engine = core.engine() as unknown as EngineLike;
  const register = (backendName: string, kernels: Kernels): void => {
    core.registerKernel({
      kernelName: FUSED_CROSSENTROPY, backendName,
      kernelFunc: ({ inputs, backend, attrs }) => kernels.forward(backend, { ...(inputs as unknown as CrossentropyCall), epsilon: (attrs as { epsilon: number }).epsilon }),
    });
    core.registerKernel({
      kernelName: FUSED_CROSSENTROPY_GRAD, backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { dy, probabilities, targets } = inputs as unknown as { dy: TensorInfo; probabilities: TensorInfo; targets: TensorInfo };
        return kernels.gradient(backend, { probabilities, targets, upstream: dy, epsilon: (attrs as { epsilon: number }).epsilon });
      },
    });
  };
  register('wasm', ON_WASM);
  core.registerGradient({
    kernelName: FUSED_CROSSENTROPY,
    inputsToSave: ['probabilities', 'targets'],
    gradFunc: (dy, saved, attrs) => {
      const [probabilities, targets] = saved as unknown as [TensorLike, TensorLike];
      return {
        probabilities: () => engine.runKernel(FUSED_CROSSENTROPY_GRAD, { dy: dy as unknown as TensorLike, probabilities, targets }, attrs) as never,
        // tfjs-layers' loss gives the targets a gradient too; training never asks for it.
        targets: () => core.zerosLike(targets as never),
      };
    },
  });

  const registeredFor = new Set<BackendLike>();
  const nameOf = (backend: BackendLike): string | undefined => Object.keys(engine.registry).find((name) => engine.registry[name] === backend);
  installed = (targets, probabilities) => {
    // The buffers' own dtypes: on a GPU, int32 labels cast to float32 keep their int32 buffer.
    const [targetInfo, probabilityInfo] = [targets, probabilities].map((tensor) => engine.state.tensorInfo.get(tensor.dataId));
    const backend = probabilityInfo?.backend;
    if (!backend || targetInfo?.backend !== backend || probabilityInfo.dtype !== 'float32') return null;
    if (probabilities.rank !== 2 || targets.shape.join() !== probabilities.shape.join()) return null;
    const onGpu = isWebGpuBackend(backend);
    if (!onGpu && !isWasmBackend(backend)) return null;
    // The WGSL programs read int32 targets as f32 values; the wasm loops read float32 only.
    if (targetInfo.dtype !== 'float32' && !(onGpu && targetInfo.dtype === 'int32')) return null;
    if (!registeredFor.has(backend)) {
      const name = nameOf(backend);
      if (name === undefined) return null;
      if (!core.getKernel(FUSED_CROSSENTROPY, name)) register(name, onGpu ? ON_GPU : ON_WASM);
      registeredFor.add(backend);
    }
    // tfjs-layers' epsilon(): the backend's, 1e-7 for float32.
    const epsilon = (backend as unknown as { epsilon(): number }).epsilon();
    return engine.runKernel(FUSED_CROSSENTROPY, { probabilities, targets }, { epsilon }) as TensorLike;
  };
}
