// The training program the training benchmark runs, as source text: the same text runs in a plain
// Node process (raw tfjs) and as kernel cells, so both train the same model on the same data.
// It is TypeScript that is also plain JavaScript, and uses only `tf` and `performance`.

export type ModelKind = 'mlp' | 'cnn';

/** Declares makeModel, makeBatches and the step loops; defines nothing else. */
export const TRAIN_SETUP = `
function benchRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function benchModel(kind: string) {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential();
  if (kind === 'mlp') {
    model.add(tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: init(1) }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(2) }));
  } else {
    model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
    model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }));
  }
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  return model;
}

/** Four batches of seeded inputs and one-hot labels, made on the current device. */
function benchBatches(kind: string, batch: number) {
  const random = benchRandom(7);
  const shape = kind === 'mlp' ? [batch, 784] : [batch, 28, 28, 1];
  const size = kind === 'mlp' ? batch * 784 : batch * 784;
  const batches: { x: any; y: any }[] = [];
  for (let b = 0; b < 4; b++) {
    const x = new Float32Array(size);
    for (let i = 0; i < size; i++) x[i] = random();
    const y = new Float32Array(batch * 10);
    for (let i = 0; i < batch; i++) y[i * 10 + Math.floor(random() * 10)] = 1;
    batches.push({ x: tf.tensor(x, shape), y: tf.tensor(y, [batch, 10]) });
  }
  return batches;
}

/** trainOnBatch as tfjs-layers users write it: ms per step after the warm-up, and the last loss. */
async function benchTrainOnBatch(model: any, batches: any[], steps: number, warmup: number) {
  let started = performance.now();
  let loss = 0;
  for (let step = 0; step < steps; step++) {
    if (step === warmup) started = performance.now();
    const batch = batches[step % batches.length];
    loss = (await model.trainOnBatch(batch.x, batch.y)) as number;
  }
  return { msPerStep: (performance.now() - started) / (steps - warmup), loss };
}
`;

export const DEFAULT_BATCH: Record<ModelKind, number> = { mlp: 128, cnn: 64 };
