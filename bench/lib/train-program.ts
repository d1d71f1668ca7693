// The training program the training benchmark runs, as source text: the same text runs in a plain
// Node process (raw tfjs) and as kernel cells, so both train the same model on the same data.
// It is TypeScript that is also plain JavaScript, and uses only `tf` and `performance`.

import { readFileSync } from 'node:fs';

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

/**
 * One step split by where its time went, measured the same way in both processes: the outermost
 * engine.runKernel calls (host time inside kernels, with whatever wraps them), the awaits of
 * Tensor.data (the loss readback), the rest (host JavaScript: tfjs-layers, the tape, the
 * optimizer); and CPU time per step, of the whole process (on lavapipe its GPU threads too) and
 * of the main thread alone. Uses tf, performance, process and benchThreadMs (the main thread's
 * CPU ms so far).
 */
export const BREAKDOWN_SETUP = `
async function benchBreakdown(model: any, batches: any[], steps: number) {
  const engine: any = tf.engine();
  const ownRunKernel = Object.prototype.hasOwnProperty.call(engine, 'runKernel');
  const runKernel = engine.runKernel;
  const proto: any = tf.Tensor.prototype;
  const data = proto.data;
  let depth = 0;
  let kernelMs = 0;
  let ops = 0;
  let readMs = 0;
  engine.runKernel = function timedKernel(this: unknown, ...args: unknown[]): unknown {
    if (depth > 0) return runKernel.apply(this, args);
    depth++;
    ops++;
    const started = performance.now();
    try {
      return runKernel.apply(this, args);
    } finally {
      kernelMs += performance.now() - started;
      depth--;
    }
  };
  proto.data = async function timedData(this: unknown, ...args: unknown[]): Promise<unknown> {
    const started = performance.now();
    try {
      return await data.apply(this, args);
    } finally {
      readMs += performance.now() - started;
    }
  };
  // The first step is left out of every figure: it may wait for work queued before.
  let timed: { msPerStep: number; loss: number };
  let cpu = process.cpuUsage();
  let thread = benchThreadMs();
  try {
    const batch = batches[0];
    await model.trainOnBatch(batch.x, batch.y);
    [kernelMs, ops, readMs] = [0, 0, 0];
    cpu = process.cpuUsage();
    thread = benchThreadMs();
    timed = await benchTrainOnBatch(model, batches, steps, 0);
  } finally {
    if (ownRunKernel) engine.runKernel = runKernel;
    else delete engine.runKernel;
    proto.data = data;
  }
  const used = process.cpuUsage(cpu);
  const stepMs = timed.msPerStep;
  const [kernelHostMs, readWaitMs] = [kernelMs / steps, readMs / steps];
  return {
    stepMs, kernelHostMs, ops: ops / steps, readWaitMs, hostJsMs: stepMs - kernelHostMs - readWaitMs,
    processCpuMs: (used.user + used.system) / 1000 / steps, mainThreadCpuMs: (benchThreadMs() - thread) / steps, loss: timed.loss,
  };
}
`;

/** benchThreadMs as a kernel cell: the main thread's CPU time, from Linux's per-thread schedstat (ns). */
export const THREAD_CLOCK_CELL = `import { readFileSync as benchReadFile } from 'node:fs';
function benchThreadMs(): number {
  return Number(benchReadFile('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}`;

/** The same clock for the raw process. */
export function threadMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
}

export const DEFAULT_BATCH: Record<ModelKind, number> = { mlp: 128, cnn: 64 };
