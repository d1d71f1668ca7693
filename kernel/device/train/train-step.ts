// model.trainStep(x, y): one training step, as trainOnBatch takes it, that returns the loss as a
// scalar tensor where the model lives instead of reading it back. trainOnBatch awaits the loss of
// every step: on a GPU each step then waits for the whole step to finish before the next one can
// be queued. Without that wait the host queues step n+1 while the GPU runs step n; the user reads
// the loss back when they want to see it (every N steps), and disposes the losses they keep.
// A model compiled with loss 'categoricalCrossentropy' trains here with the fused loss
// (crossentropy.ts): two kernels where tfjs-layers' loss and its gradient make ~35 ops. On wasm a
// transposed product goes through XNNPACK (transposed-matmul.ts).
import type { TfCoreModule, TfLayersModule } from '../tfjs';
import type { TensorLike } from '../engine-internals';
import { fusedCrossentropy } from './crossentropy';
import { inFastPath } from './fast-path';
import { installTransposedMatMul } from './transposed-matmul';

interface Tensorish {
  dispose(): void;
}

type LossFunction = (targets: TensorLike, outputs: TensorLike) => TensorLike;

/** tfjs-layers 4.22's LayersModel (dist/engine/training.js), the parts trainOnBatch uses. */
interface TrainableModel {
  model?: TrainableModel;
  optimizer_?: unknown;
  /** What compile was given: a name, a function, or one per output. */
  loss?: unknown;
  /** One per output, made by compile; the train function reads them at each call. */
  lossFunctions: LossFunction[];
  standardizeUserDataXY(x: unknown, y: unknown, checkBatchAxis: boolean): [Tensorish[], Tensorish[]];
  makeTrainFunction(): (data: Tensorish[]) => Tensorish[];
}

/** Tensors that standardizing made (tfjs-layers disposes those, not the caller's). */
function disposeMade(made: Tensorish[], given: unknown): void {
  const kept = new Set<unknown>(Array.isArray(given) ? given : given !== null && typeof given === 'object' ? Object.values(given) : []);
  kept.add(given);
  for (const tensor of made) if (!kept.has(tensor)) tensor.dispose();
}

/** The loss functions a step uses: the fused crossentropy where compile named categoricalCrossentropy for the one output. */
function stepLosses(model: TrainableModel): LossFunction[] | null {
  const fused = fusedCrossentropy();
  const named = Array.isArray(model.loss) && model.loss.length === 1 ? model.loss[0] : model.loss;
  if (fused === null || named !== 'categoricalCrossentropy' || model.lossFunctions.length !== 1) return null;
  const tfjsLoss = model.lossFunctions[0]!;
  return [(targets, outputs) => fused(targets, outputs) ?? tfjsLoss(targets, outputs)];
}

export function installTrainStep(core: TfCoreModule, layers: TfLayersModule): void {
  installTransposedMatMul(core);
  const modelProto = layers.LayersModel.prototype as unknown as Record<string, unknown>;
  modelProto['trainStep'] = function trainStep(this: TrainableModel, x: unknown, y: unknown): Tensorish {
    // A Sequential trains the LayersModel it wraps, as its trainOnBatch does.
    const model = this.model !== undefined && this.model !== this ? this.model : this;
    if (model.optimizer_ == null) {
      throw new Error('model.trainStep: the model has no optimizer yet: call model.compile({ optimizer, loss }) first.');
    }
    const [inputs, targets] = model.standardizeUserDataXY(x, y, true);
    const compiled = model.lossFunctions;
    const fused = stepLosses(model);
    try {
      const [loss, ...metrics] = inFastPath(() => {
        if (fused) model.lossFunctions = fused;
        return model.makeTrainFunction()(inputs.concat(targets));
      }, () => { model.lossFunctions = compiled; });
      core.dispose(metrics as never);
      return loss!;
    } finally {
      disposeMade(inputs, x);
      disposeMade(targets, y);
    }
  };
}
