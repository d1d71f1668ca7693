// Adam's update of each variable as one kernel, `FusedAdam`, instead of tfjs's 14 ops: one WGSL
// dispatch on a GPU (adam-gpu.ts), one loop on wasm (adam-host.ts), writing the moments (and on a
// GPU the variable) in place. tfjs.train.adam's own optimizer takes this path, so whatever trains with it
// (model.fit, trainOnBatch, optimizer.minimize, model.trainStep) gets it. The kernel goes through
// engine.runKernel like any op: placement, the report's op counts and tf.profile see it.
// Where it cannot apply (a variable whose buffer another tensor shares, inputs on two backends,
// a dtype other than float32, a backend it has no loop for) the step runs tfjs's own update.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendLike, EngineLike, TensorLike } from '../engine-internals';
import { isWasmBackend, isWebGpuBackend } from '../transfer/gpu-types';
import type { TfCoreModule } from '../tfjs';
import { adamOnGpu } from './adam-gpu';
import { adamOnWasm } from './adam-host';

export const FUSED_ADAM = 'FusedAdam';

export interface AdamUpdate {
  tensors: { value: TensorLike; gradient: TensorLike; firstMoment: TensorLike; secondMoment: TensorLike; accBeta1: TensorLike; accBeta2: TensorLike };
  constants: { beta1: number; beta2: number; epsilon: number; learningRate: number };
  /** tfjs's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: dispatches per submit. */
  submitBatch: number;
}

/** tfjs-core 4.22's AdamOptimizer (dist/optimizers/adam_optimizer.js), the fields applyGradients uses. */
interface AdamLike {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: TensorLike & { assign(value: TensorLike): void };
  accBeta2: TensorLike & { assign(value: TensorLike): void };
  accumulatedFirstMoment: ({ originalName: string; variable: TensorLike } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: TensorLike } | undefined)[];
  incrementIterations(): void;
}

type NamedGradients = Record<string, TensorLike | null | undefined> | { name: string; tensor: TensorLike | null | undefined }[];

interface RefCounted {
  refCount(dataId: unknown): number;
}

/** Installs the kernel and Adam's fused update; TSGPU_FUSED_OPTIMIZER=off leaves tfjs's own (to compare). */
export function installFusedAdam(core: TfCoreModule): void {
  if (process.env['TSGPU_FUSED_OPTIMIZER'] === 'off') return;
  const engine = core.engine() as unknown as EngineLike & { registeredVariables: Record<string, TensorLike> };
  const submitBatch = (): number => core.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
  const registeredFor = new Set<BackendLike>();
  const nameOf = (backend: BackendLike): string | undefined => Object.keys(engine.registry).find((name) => engine.registry[name] === backend);

  /** An update returns the variable's new value where it could not write it in place. */
  const register = (backendName: string, run: (backend: object, update: AdamUpdate) => TensorInfo | null): void => {
    core.registerKernel({
      kernelName: FUSED_ADAM,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        // The flag exists once tfjs-backend-webgpu is loaded, which only a GPU update needs.
        const newValue = run(backend, { tensors: inputs as unknown as AdamUpdate['tensors'], constants: attrs as unknown as AdamUpdate['constants'], submitBatch: run === adamOnGpu ? submitBatch() : 0 });
        return newValue === null ? [] : [newValue];
      },
    });
  };
  // Now, so that wasm lists it among its kernels (placement reads that list once).
  register('wasm', adamOnWasm);

  /** The backend every input lives on, with the kernel registered there; null where the fused update cannot run. */
  const backendFor = (tensors: AdamUpdate['tensors']): BackendLike | null => {
    const infos = Object.values(tensors).map((tensor) => engine.state.tensorInfo.get(tensor.dataId));
    const backend = infos[0]?.backend;
    if (!backend || infos.some((info) => info?.backend !== backend || info.dtype !== 'float32')) return null;
    const onGpu = isWebGpuBackend(backend);
    if (!onGpu && !isWasmBackend(backend)) return null;
    // Written in place: only while the variable alone holds each buffer.
    const counted = backend as unknown as RefCounted;
    if ([tensors.value, tensors.firstMoment, tensors.secondMoment].some((tensor) => counted.refCount(tensor.dataId) !== 1)) return null;
    if (!registeredFor.has(backend)) {
      const name = nameOf(backend);
      if (name === undefined) return null;
      if (!core.getKernel(FUSED_ADAM, name)) register(name, onGpu ? adamOnGpu : adamOnWasm);
      registeredFor.add(backend);
    }
    return backend;
  };

  const proto = core.AdamOptimizer.prototype as unknown as { applyGradients(this: AdamLike, gradients: NamedGradients): void };
  const tfjsUpdate = proto.applyGradients;
  proto.applyGradients = function applyGradients(this: AdamLike, variableGradients: NamedGradients): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((entry) => entry.name) : Object.keys(variableGradients);
    const updates: AdamUpdate['tensors'][] = [];
    for (const [i, name] of names.entries()) {
      const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
      if (gradient == null) continue;
      const value = engine.registeredVariables[name]!;
      // Made as tfjs's update makes them, so getWeights/setWeights and a later tfjs update find them.
      const zeros = (): TensorLike => core.tidy(() => core.zerosLike(value as unknown as Parameters<TfCoreModule['zerosLike']>[0]).variable(false)) as unknown as TensorLike;
      this.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: zeros() };
      this.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: zeros() };
      const tensors = {
        value, gradient, firstMoment: this.accumulatedFirstMoment[i]!.variable, secondMoment: this.accumulatedSecondMoment[i]!.variable,
        accBeta1: this.accBeta1, accBeta2: this.accBeta2,
      };
      if (backendFor(tensors) === null) return tfjsUpdate.call(this, variableGradients);
      updates.push(tensors);
    }
    const constants = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate };
    core.tidy(() => {
      for (const tensors of updates) {
        const [newValue] = engine.runKernel(FUSED_ADAM, tensors as never, constants) as TensorLike[];
        if (newValue) (tensors.value as AdamLike['accBeta1']).assign(newValue);
      }
      this.accBeta1.assign(core.mul(this.accBeta1 as never, this.beta1) as never);
      this.accBeta2.assign(core.mul(this.accBeta2 as never, this.beta2) as never);
    });
    this.incrementIterations();
  };
}
