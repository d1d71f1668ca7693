// The situations the report's hints are judged on, as cells a user would run: each case's setup
// cells, the cell whose report is judged, and what runs after it. The hint table test
// (test/protocol/report-hints-table.test.ts) says what each must show; kept here as data so the
// same cells can be run against another build to compare.

/** Defines makeModel() (loss and accuracy: two values to read back per epoch) and a small dataset (192 rows of 4 features: 6 batches of 32). */
export const HINT_CASES_PRELUDE = [
  '/** A binary classifier: `hidden` dense layers of 8 units, then one output; Adam. */',
  'function makeModel(hidden = 1) {',
  '  const model = tf.sequential();',
  "  model.add(tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }));",
  "  for (let i = 1; i < hidden; i++) model.add(tf.layers.dense({ units: 8, activation: 'relu' }));",
  "  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));",
  "  model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });",
  '  return model;',
  '}',
  'const rows: number[][] = [];',
  'for (let i = 0; i < 192; i++) rows.push([i % 2, ((i * 7) % 5) / 5, ((i * 3) % 7) / 7, 1 - (i % 2)]);',
  'const labels = rows.map((row) => [row[0]!]);',
  'const EPOCHS = 5;',
  '0',
].join('\n');

export interface HintCase {
  /** Short key for the table. */
  key: string;
  setup: string[];
  /** The cell whose report is judged. */
  cell: string;
  /** Interrupt the cell this long after it starts (an interrupted fit). */
  interruptAfterMs?: number;
  /** Cells that put the kernel back (%device cpu). */
  cleanup: string[];
}

export const HINT_CASES: HintCase[] = [
  {
    key: 'fit',
    setup: ['%device gpu:0', 'const fitModel = makeModel();\nconst fitX = tf.tensor2d(rows);\nconst fitY = tf.tensor2d(labels);\n0', '%device cpu'],
    // The result: values fit's History logged (epochs × loss and accuracy).
    cell: 'const fitHistory = await fitModel.fit(fitX, fitY, { epochs: EPOCHS, batchSize: 32 });\nfitHistory.epoch.length * Object.keys(fitHistory.history).length',
    cleanup: [],
  },
  {
    key: 'fit+progress.fit',
    setup: [],
    cell: 'const barHistory = await fitModel.fit(fitX, fitY, { epochs: EPOCHS, batchSize: 32, callbacks: progress.fit({ epochs: EPOCHS }) });\nbarHistory.epoch.length * Object.keys(barHistory.history).length',
    cleanup: [],
  },
  {
    key: 'fit+onBatchEnd',
    setup: ['let batchEnds = 0;\n0'],
    // The result: values read for each batch's logs and each epoch's (History's).
    cell: [
      'const batchHistory = await fitModel.fit(fitX, fitY, {',
      '  epochs: 2, batchSize: 32,',
      '  callbacks: { onBatchEnd: async () => { batchEnds++; } },',
      '});',
      '(batchEnds + batchHistory.epoch.length) * Object.keys(batchHistory.history).length',
    ].join('\n'),
    cleanup: [],
  },
  {
    key: "model.to('cpu')",
    // Trained on gpu:0 first: weights made from host values keep a host copy, and moving them reads nothing back.
    setup: ['%device gpu:0', 'const deepModel = makeModel(9);\nawait deepModel.fit(fitX, fitY, { epochs: 1, batchSize: 192 });\ndeepModel.weights.length', '%device cpu'],
    cell: "await deepModel.to('cpu');\ndeepModel.weights.length",
    cleanup: [],
  },
  {
    key: "model.to('gpu:0') with Adam state",
    setup: ['const adamModel = makeModel();\nawait adamModel.fit(tf.tensor2d(rows), tf.tensor2d(labels), { epochs: 1, batchSize: 192 });\n0'],
    cell: "await adamModel.to('gpu:0');\nadamModel.weights.length",
    cleanup: [],
  },
  {
    key: 'interrupted fit',
    setup: [],
    cell: 'await fitModel.fit(fitX, fitY, { epochs: 10000, batchSize: 32, callbacks: progress.fit({ epochs: 10000 }) });',
    interruptAfterMs: 3000,
    cleanup: [],
  },
  {
    key: '%timeit readOnce',
    setup: [[
      "const residentX = await tf.randomNormal([1024, 16], 0, 1, 'float32', 1).to('gpu:0');",
      "const residentW = await tf.randomNormal([16, 4], 0, 1, 'float32', 2).to('gpu:0');",
      '/** Scores kept on the device, joined there, and read back once. */',
      'async function readOnce(): Promise<number[]> {',
      '  const outs: tf.Tensor[] = [];',
      '  for (let start = 0; start < 1024; start += 64) {',
      '    outs.push(tf.tidy(() => residentX.slice([start, 0], [64, 16]).matMul(residentW).sigmoid()));',
      '  }',
      '  const all = tf.concat(outs);',
      '  tf.dispose(outs);',
      '  const scores = Array.from(await all.data());',
      '  all.dispose();',
      '  return scores;',
      '}',
      '(await readOnce()).length',
    ].join('\n')],
    cell: '%timeit -n 3 -r 3 await readOnce()',
    cleanup: [],
  },
  {
    key: "policy moves weights back after model.to('cpu')",
    setup: ['%device gpu:0', 'const backModel = makeModel();\n0'],
    cell: "await backModel.to('cpu');\nconst backOut = backModel.predict(tf.tensor2d([[1, 0.5, 0.25, 0]])) as tf.Tensor;\n[backOut.device, backModel.weights.length]",
    cleanup: ['%device cpu'],
  },
  {
    key: "policy moves weights back for trainOnBatch after model.to('cpu')",
    // Adam's constants and the step's own tensors are made on the model's device (cpu) each call, and moved too.
    setup: ['%device gpu:0', "const tobModel = makeModel();\nconst tobX = tf.tensor2d(rows.slice(0, 32));\nconst tobY = tf.tensor2d(labels.slice(0, 32));\n0"],
    cell: "await tobModel.to('cpu');\nfor (let i = 0; i < 3; i++) await tobModel.trainOnBatch(tobX, tobY);\ntobModel.weights.length",
    cleanup: ['%device cpu'],
  },
  {
    // The user follows the hint above (data to cpu) after the policy has moved the weights to gpu:0 in the step before.
    key: "trainOnBatch again, the data moved to cpu, the weights on gpu:0 by the policy's earlier step",
    setup: ['%device gpu:0', "const againModel = makeModel();\nconst againX = tf.tensor2d(rows.slice(0, 32));\nconst againY = tf.tensor2d(labels.slice(0, 32));\nawait againModel.to('cpu');\n0",
      'await againModel.trainOnBatch(againX, againY);\n0'],
    cell: "await againX.to('cpu'); await againY.to('cpu');\nawait againModel.trainOnBatch(againX, againY);\n0",
    cleanup: ['%device cpu'],
  },
  {
    // The user's tensor moved to cpu, its op's other input made on gpu:0: the line names both.
    key: "matMul of a tensor moved back to cpu with one made on gpu:0",
    setup: ['%device gpu:0', "const madeW = tf.randomNormal([8, 8]);\nawait madeW.to('gpu:0');\nconst movedH = await tf.randomNormal([8, 8]).to('gpu:0');\n0",
      "await movedH.to('cpu');\n0"],
    cell: 'const madeOut = movedH.matMul(madeW);\nmadeOut.device',
    cleanup: ['%device cpu'],
  },
  {
    // The user put one input back on cpu, then the other on gpu:0: the newer choice is the run's.
    key: 'matMul after the user put its other input on gpu:0 since',
    setup: ["const chosenW = tf.randomNormal([8, 8]);\nconst chosenH = await tf.randomNormal([8, 8]).to('gpu:0');\nawait chosenH.to('cpu');\n0"],
    cell: "await chosenW.to('gpu:0');\nconst chosenOut = chosenH.matMul(chosenW);\nchosenOut.device",
    cleanup: [],
  },
  {
    // A map's reads awaited together: no loop of steps, one batch of reads in flight at once.
    key: 'Promise.all of a map of reads',
    setup: ["const mapBase = await tf.ones([64]).to('gpu:0');\nconst mapOuts = Array.from({ length: 20 }, (_, i) => mapBase.add(i));\n0"],
    cell: 'const mapValues = await Promise.all(mapOuts.map((out) => out.data()));\nmapValues.length',
    cleanup: [],
  },
  {
    // The same, of tensors of ten shapes: tf.stack would throw.
    key: 'Promise.all of a map of reads of tensors of other shapes',
    setup: ["const shapedBase = await tf.ones([1]).to('gpu:0');\nconst shapedOuts = Array.from({ length: 10 }, (_, i) => shapedBase.add(tf.zeros([8 * (i + 1), 3 + i])));\n0"],
    cell: 'const shapedValues = await Promise.all(shapedOuts.map((out) => out.data()));\nshapedValues.length',
    cleanup: [],
  },
  {
    // PyTorch's way to keep a copy of the weights, given back with setWeights: the model's weights are the clones moved to cpu.
    key: 'fit after setWeights of weight copies moved to cpu',
    setup: ['%device gpu:0', "const restored = makeModel();\nconst restoredCopies = await Promise.all(restored.getWeights().map((weight) => weight.clone().to('cpu')));\nconst restoredX = tf.tensor2d(rows.slice(0, 32));\nconst restoredY = tf.tensor2d(labels.slice(0, 32));\n0",
      'restored.setWeights(restoredCopies);\n0'],
    cell: 'await restored.fit(restoredX, restoredY, { epochs: 1, verbose: 0 });\n0',
    cleanup: ['%device cpu'],
  },
  {
    // Data and variable on cpu, the optimizer and tfjs's own gradient tensors made on gpu:0 (the current device).
    key: 'minimize on cpu tensors under %device gpu:0',
    setup: ['%device gpu:0', "const cpuW = await withDevice('cpu', () => tf.variable(tf.ones([4, 1])));\nconst cpuX = await withDevice('cpu', () => tf.tensor2d(rows.slice(0, 32)));\nconst cpuY = await withDevice('cpu', () => tf.tensor2d(labels.slice(0, 32)));\nconst sgdOnGpu = tf.train.sgd(0.1);\n0"],
    cell: 'sgdOnGpu.minimize(() => cpuX.matMul(cpuW).sub(cpuY).square().mean() as tf.Scalar);\n0',
    cleanup: ['%device cpu'],
  },
  {
    key: 'TP: per-batch upload in a user loop',
    setup: [],
    cell: [
      'for (let i = 0; i < 12; i++) {',
      '  const batch = tf.tensor2d(rows.slice(i * 16, i * 16 + 16));',
      "  await batch.to('gpu:0');",
      '  batch.dispose();',
      '}',
    ].join('\n'),
    cleanup: [],
  },
  {
    key: 'TP: per-step await loss.data() in a user loop',
    setup: ["const stepX = await tf.tensor2d(rows).to('gpu:0');\nconst stepW = await tf.ones([4, 1]).to('gpu:0');\n0"],
    cell: [
      'for (let step = 0; step < 10; step++) {',
      '  const loss = tf.tidy(() => stepX.matMul(stepW).mean());',
      '  await loss.data();',
      '  loss.dispose();',
      '}',
    ].join('\n'),
    cleanup: [],
  },
  {
    key: 'TP: a tensor moved to the host on every step of a user loop',
    setup: ["const moveX = await tf.tensor2d(rows).to('gpu:0');\n0"],
    cell: [
      'for (let step = 0; step < 10; step++) {',
      '  const h = moveX.sigmoid();',
      "  await h.to('cpu');",
      '  h.dispose();',
      '}',
    ].join('\n'),
    cleanup: [],
  },
  {
    key: 'TP: a tensor moved to the host each step, and back by the policy for the next step',
    setup: ["const backW = await tf.randomNormal([8, 8]).to('gpu:0');\nlet backH = await tf.randomNormal([8, 8]).to('gpu:0');\n0"],
    cell: [
      'for (let step = 0; step < 10; step++) {',
      '  backH = backH.matMul(backW).tanh();',
      "  await backH.to('cpu');",
      '}',
    ].join('\n'),
    cleanup: [],
  },
  {
    key: 'TP: reads started in a user loop, awaited after it',
    setup: ["const laterX = await tf.tensor2d(rows).to('gpu:0');\n0"],
    cell: [
      'const pending: Promise<unknown>[] = [];',
      'for (let step = 0; step < 10; step++) {',
      '  pending.push(laterX.add(laterX).data());',
      '}',
      'await Promise.all(pending);',
    ].join('\n'),
    cleanup: [],
  },
  {
    key: 'TP: trainOnBatch in a user loop',
    setup: [],
    // The result: values trainOnBatch returned (loss and accuracy per call).
    cell: 'let returned = 0;\nfor (let step = 0; step < 10; step++) {\n  returned += ([] as number[]).concat(await fitModel.trainOnBatch(fitX, fitY)).length;\n}\nreturned',
    cleanup: [],
  },  {
    key: 'TP: per-step tf.tensor2d batch made on gpu:0 in a user loop',
    // Made on gpu:0 from host values: tfjs uploads each at its first op. stepBatchW is made in the setup cell and uploaded here too.
    setup: ['%device gpu:0', 'const stepBatchW = tf.ones([4, 8]);\n0'],
    // The result: the bytes the cell made, as the GPU holds them (float32: 4 B per element).
    cell: [
      'let madeBytes = 0;',
      'for (let i = 0; i < 12; i++) {',
      '  const batch = tf.tensor2d(rows.slice(i * 16, i * 16 + 16));',
      '  madeBytes += batch.size * 4;',
      '  batch.matMul(stepBatchW).dispose();',
      '  batch.dispose();',
      '}',
      'madeBytes',
    ].join('\n'),
    cleanup: ['%device cpu'],
  },
  {
    key: 'opt.minimize per step on gpu:0, batches sliced on the device',
    // tfjs makes constants and Adam's scalars on gpu:0 each step: uploads, but not the user's to change.
    setup: ['%device gpu:0', 'const minX = tf.tensor2d(rows);\nconst minY = tf.tensor2d(labels);\nconst minModel = makeModel();\nconst minOpt = tf.train.adam(0.01);\n0'],
    cell: [
      'for (let i = 0; i < 192; i += 16) {',
      '  const xb = minX.slice([i, 0], [16, 4]);',
      '  const yb = minY.slice([i, 0], [16, 1]);',
      '  const loss = minOpt.minimize(() => tf.losses.sigmoidCrossEntropy(yb, minModel.predict(xb) as tf.Tensor) as tf.Scalar, true)!;',
      '  await loss.data();',
      '}',
    ].join('\n'),
    cleanup: ['%device cpu'],
  },
  {
    key: 'TP: tf.scalar(lr) per step on gpu:0',
    setup: ['%device gpu:0', 'const lrW = tf.randomNormal([128, 128]);\nconst lrV = tf.variable(tf.randomNormal([128, 128]));\n0'],
    cell: [
      'for (let step = 0; step < 10; step++) {',
      '  const lr = tf.scalar(0.01);',
      '  lrV.assign(lrV.sub(lrW.mul(lr)));',
      '  lr.dispose();',
      '}',
    ].join('\n'),
    cleanup: ['%device cpu'],
  },
  {
    key: 'TP: host-made scalars used on gpu:0 each step',
    setup: ['%device gpu:0', "const onGpu = tf.randomNormal([64, 64]);\nconst hostScalars = await withDevice('cpu', async () => Array.from({ length: 10 }, () => tf.scalar(3)));\n0"],
    cell: 'for (let k = 0; k < 10; k++) onGpu.mul(hostScalars[k]!);',
    cleanup: ['%device cpu'],
  },
  {
    // More moves than the ledger keeps one by one (2 × 10,000): the older ones are folded.
    key: 'TP: 21,000 host scalars used on gpu:0, past the ledger\'s folding',
    setup: ["const foldedOn = await tf.ones([16]).to('gpu:0');\n0"],
    cell: 'let scalarSteps = 0;\nfor (let k = 0; k < 21000; k++) { const product = foldedOn.mul(1.5); product.dispose(); scalarSteps++; }\nscalarSteps',
    cleanup: [],
  },
  {
    key: 'TP: readback in a helper of an earlier cell, called from a user loop',
    setup: [[
      "const helperX = await tf.tensor2d(rows).to('gpu:0');",
      '/** The first value of a tensor, read back. */',
      'async function firstValue(t: tf.Tensor): Promise<number> {',
      '  const values = await t.data();',
      '  return values[0]!;',
      '}',
      '0',
    ].join('\n')],
    cell: 'const firsts: number[] = [];\nfor (let i = 0; i < 10; i++) {\n  firsts.push(await firstValue(helperX.slice([i, 0], [1, 4])));\n}\nfirsts.length',
    cleanup: [],
  },
  {
    key: 'TP: readback in a helper of the same cell, called from a user loop',
    setup: [],
    cell: [
      '/** A row\'s sum, read back. */',
      'async function rowSum(t: tf.Tensor): Promise<number> {',
      '  const values = await t.sum().data();',
      '  return values[0]!;',
      '}',
      'let rowTotal = 0;',
      'for (let i = 0; i < 10; i++) rowTotal += await rowSum(helperX.slice([i, 0], [1, 4]));',
      'rowTotal',
    ].join('\n'),
    cleanup: [],
  },
];
