// The tensor API, for the checker, once a cell touches tensors (kernel/device/device-layer.ts adds this
// file then). Keep in step with kernel/device/tensor-api.ts, which provides it at run time.
import type * as tfCore from '@tensorflow/tfjs-core';
import type * as tfLayers from '@tensorflow/tfjs-layers';
import type { Rank } from '@tensorflow/tfjs-core/dist/types';
// The chained ops' types (x.mul(y), x.reshape(…)): kernel/device/chained-ops.ts installs them.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

declare module '@tensorflow/tfjs-core/dist/tensor' {
  interface Tensor<R extends Rank = Rank> {
    /** Where the data is now: 'cpu', 'gpu:0', … (asked of tfjs every time: tfjs moves data rather than copying it). */
    readonly device: string;
    /** Moves the data to a device ('cpu', 'gpu:0', 'gpu', 'cuda:0', 'auto'); resolves with this tensor. */
    to(device: string): Promise<this>;
    /** Same as to(`gpu:${index}`). */
    cuda(index?: number): Promise<this>;
    /** Same as to('cpu'): brings the data to the host. */
    cpu(): Promise<this>;
    /** The value of a one-element tensor. */
    item(): Promise<number>;
  }
}

declare module '@tensorflow/tfjs-layers/dist/engine/training' {
  interface LayersModel {
    /** Moves every weight, and the optimizer's state, to a device; later fit/predict run there. */
    to(device: string): Promise<this>;
    /**
     * One training step, as trainOnBatch takes it, without reading the loss back: returns the loss
     * as a scalar tensor on the model's device, so the next step is queued while this one runs.
     * Read it when you want to see it (`await loss.item()` every N steps) and dispose the rest.
     */
    trainStep(x: tfCore.Tensor | tfCore.Tensor[], y: tfCore.Tensor | tfCore.Tensor[]): tfCore.Scalar;
  }
}

type AsTensorInput = number | boolean | string | ArrayLike<unknown> | readonly unknown[] | tfCore.Tensor;

declare global {
  /** TensorFlow.js (core and layers), device-aware: ops run where their inputs are. */
  const tf: typeof tfCore & typeof tfLayers;
  /** tfjs's types under `tf.`, as with `import * as tf from '@tensorflow/tfjs'`. */
  namespace tf {
    type Tensor<R extends Rank = Rank> = tfCore.Tensor<R>;
    type Scalar = tfCore.Scalar;
    type Tensor1D = tfCore.Tensor1D;
    type Tensor2D = tfCore.Tensor2D;
    type Tensor3D = tfCore.Tensor3D;
    type Tensor4D = tfCore.Tensor4D;
    type Variable<R extends Rank = Rank> = tfCore.Variable<R>;
    type TensorLike = tfCore.TensorLike;
    type DataType = tfCore.DataType;
    type Optimizer = tfCore.Optimizer;
    type LayersModel = tfLayers.LayersModel;
    type Sequential = tfLayers.Sequential;
    type SymbolicTensor = tfLayers.SymbolicTensor;
    type History = tfLayers.History;
  }
  /**
   * A tensor from numbers, nested arrays, typed arrays, numeric strings or "1,0,1", made on the
   * current device. Labels like ['1', '0']: asTensor(labels, 'int32').
   */
  function asTensor(value: AsTensorInput, dtype?: 'float32' | 'int32' | 'bool'): tfCore.Tensor;
  /** The canonical name of a device ('gpu' → 'gpu:0'); throws, listing the devices, for one that does not exist. */
  function device(name: string): string;
  /** 'gpu:0' where a hardware GPU exists, else 'cpu'. */
  function bestDevice(): string;
  /** Runs `run` with `name` as the current device (where new tensors and models are made), then restores it. */
  function withDevice<T>(name: string, run: () => T | Promise<T>): Promise<T>;
}

export {};
