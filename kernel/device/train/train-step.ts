// model.trainStep(x, y): one training step, as trainOnBatch takes it, that returns the loss as a
// scalar tensor where the model lives instead of reading it back. trainOnBatch awaits the loss of
// every step: on a GPU each step then waits for the whole step to finish before the next one can
// be queued. Without that wait the host queues step n+1 while the GPU runs step n; the user reads
// the loss back when they want to see it (every N steps), and disposes the losses they keep.
import type { TfCoreModule, TfLayersModule } from '../tfjs';

interface Tensorish {
  dispose(): void;
}

/** tfjs-layers 4.22's LayersModel (dist/engine/training.js), the parts trainOnBatch uses. */
interface TrainableModel {
  model?: TrainableModel;
  optimizer_?: unknown;
  standardizeUserDataXY(x: unknown, y: unknown, checkBatchAxis: boolean): [Tensorish[], Tensorish[]];
  makeTrainFunction(): (data: Tensorish[]) => Tensorish[];
}

/** Tensors that standardizing made (tfjs-layers disposes those, not the caller's). */
function disposeMade(made: Tensorish[], given: unknown): void {
  const kept = new Set<unknown>(Array.isArray(given) ? given : given !== null && typeof given === 'object' ? Object.values(given) : []);
  kept.add(given);
  for (const tensor of made) if (!kept.has(tensor)) tensor.dispose();
}

export function installTrainStep(core: TfCoreModule, layers: TfLayersModule): void {
  const modelProto = layers.LayersModel.prototype as unknown as Record<string, unknown>;
  modelProto['trainStep'] = function trainStep(this: TrainableModel, x: unknown, y: unknown): Tensorish {
    // A Sequential trains the LayersModel it wraps, as its trainOnBatch does.
    const model = this.model !== undefined && this.model !== this ? this.model : this;
    if (model.optimizer_ == null) {
      throw new Error('model.trainStep: the model has no optimizer yet: call model.compile({ optimizer, loss }) first.');
    }
    const [inputs, targets] = model.standardizeUserDataXY(x, y, true);
    const [loss, ...metrics] = model.makeTrainFunction()(inputs.concat(targets));
    core.dispose(metrics as never);
    disposeMade(inputs, x);
    disposeMade(targets, y);
    return loss!;
  };
}
