// PyTorch habits get a hint that says what to write here instead, whether the type checker stops
// the cell (%typecheck on) or the runtime does (%typecheck off). Each case is one habit; the table
// reads as the list of habits covered.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { cellError, executeReply, streamText } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import type { KernelClient } from '../support/kernel-client';
import { assertTsError } from '../support/typescript';

interface Habit {
  /** What the user wrote (after the shared setup below). */
  code: string;
  /** TS code of the type error, and the hint that must end its traceback. */
  typeError: { code: number; hint: RegExp };
  /** With %typecheck off: the error's name and the hint that must end its traceback (null: the runtime gives no hint). */
  runtime: { ename: string; hint: RegExp } | null;
}

const SETUP = 'const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });\nconst x = tf.ones([1]);';

const HABITS: Habit[] = [
  {
    code: 'model.cuda()',
    typeError: { code: 2339, hint: /^Hint: a model moves with `await model\.to\('gpu:0'\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: a model moves with `await model\.to\('gpu:0'\)`/ },
  },
  {
    code: 'model.cpu()',
    typeError: { code: 2339, hint: /^Hint: a model moves with `await model\.to\('cpu'\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: a model moves with `await model\.to\('cpu'\)`/ },
  },
  {
    code: 'model.eval()',
    typeError: { code: 2339, hint: /^Hint: tfjs models have no train\/eval mode to switch/ },
    runtime: { ename: 'TypeError', hint: /^Hint: tfjs models have no train\/eval mode to switch/ },
  },
  {
    code: 'model.train()',
    typeError: { code: 2339, hint: /^Hint: tfjs models have no train\/eval mode to switch/ },
    runtime: { ename: 'TypeError', hint: /^Hint: tfjs models have no train\/eval mode to switch/ },
  },
  {
    code: 'x.numpy()',
    typeError: { code: 2339, hint: /^Hint: read a tensor's values with `await x\.array\(\)`.*`await x\.data\(\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: read a tensor's values with `await x\.array\(\)`/ },
  },
  {
    code: 'const itemFixed = x.item(); itemFixed.toFixed(2)',
    typeError: { code: 2339, hint: /^Hint: `itemFixed` is a Promise: `x\.item\(…\)` is asynchronous\. Write `const itemFixed = await x\.item\(…\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: `itemFixed` is a Promise: `x\.item\(…\)` is asynchronous\. Write `const itemFixed = await x\.item\(…\)`/ },
  },
  {
    code: "const movedLater = x.to('cpu'); movedLater.add(1)",
    typeError: { code: 2339, hint: /^Hint: `movedLater` is a Promise: `x\.to\(…\)` is asynchronous\. Write `const movedLater = await x\.to\(…\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: `movedLater` is a Promise: `x\.to\(…\)` is asynchronous\. Write `const movedLater = await x\.to\(…\)`/ },
  },
  {
    // No name to point at: the general form of the hint.
    code: "(x.to('cpu')).add(1)",
    typeError: { code: 2339, hint: /^Hint: this is a Promise \(moves and reads of tensors are asynchronous\): add `await`, e\.g\. `\(await x\.to\('gpu:0'\)\)\.add\(…\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: this is a Promise: moves and reads of tensors .*`x = await x\.to\('gpu:0'\)`/ },
  },
  {
    // A property of a call's promise: the hint names that call, and reads the property without a call.
    code: "withDevice('cpu', () => tf.ones([2])).device",
    typeError: { code: 2339, hint: /^Hint: this is a Promise \(moves and reads of tensors are asynchronous\): add `await`, e\.g\. `\(await withDevice\(…\)\)\.device`, or `const x = await withDevice\(…\)` first\.$/ },
    runtime: null,
  },
  {
    // At run time a promise plus one is the string "[object Promise]1": nothing fails, so only the checker can say it.
    code: 'const itemPlus = x.item(); itemPlus + 1',
    typeError: { code: 2365, hint: /^Hint: this is a Promise: reads of tensors .*add `await`/i },
    runtime: null,
  },
  {
    code: "const xin = withDevice('cpu', () => tf.ones([1, 2])); model.predict(xin)",
    typeError: { code: 2345, hint: /^Hint: `xin` is a Promise: `withDevice\(…\)` is asynchronous\. Write `const xin = await withDevice\(…\)`/ },
    runtime: null,
  },
  {
    code: "const xinLater = withDevice('cpu', () => tf.ones([1, 2])); xinLater.add(1)",
    typeError: { code: 2339, hint: /^Hint: `xinLater` is a Promise: `withDevice\(…\)` is asynchronous\. Write `const xinLater = await withDevice\(…\)`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: `xinLater` is a Promise: `withDevice\(…\)` is asynchronous\. Write `const xinLater = await withDevice\(…\)`/ },
  },
  {
    code: "x.to('cuda').matMul(x)",
    typeError: { code: 2339, hint: /^Hint: this is a Promise \(moves and reads of tensors are asynchronous\): add `await`/ },
    runtime: { ename: 'TypeError', hint: /^Hint: this is a Promise: moves and reads of tensors .*add `await`/i },
  },
  {
    code: 'const lossTensor = x.sum(); lossTensor.backward()',
    typeError: { code: 2339, hint: /^Hint: tfjs computes gradients inside a function.*`opt\.minimize\(\(\) => .*`tf\.variableGrads/ },
    runtime: { ename: 'TypeError', hint: /^Hint: tfjs computes gradients inside a function.*`opt\.minimize\(/ },
  },
  {
    code: 'const opt = tf.train.sgd(0.1); opt.zero_grad()',
    typeError: { code: 2339, hint: /^Hint: tfjs optimizers keep no gradients between steps.*`opt\.minimize\(/ },
    runtime: { ename: 'TypeError', hint: /^Hint: tfjs optimizers keep no gradients between steps/ },
  },
  {
    code: 'const optimizer = tf.train.adam(); optimizer.zero_grad()',
    typeError: { code: 2339, hint: /^Hint: tfjs optimizers keep no gradients between steps/ },
    runtime: { ename: 'TypeError', hint: /^Hint: tfjs optimizers keep no gradients between steps/ },
  },
  {
    code: 'x.detach()',
    typeError: { code: 2339, hint: /^Hint: tfjs tensors do not record gradients.*nothing to detach/ },
    runtime: { ename: 'TypeError', hint: /^Hint: tfjs tensors do not record gradients/ },
  },
  {
    code: 'x.size()',
    typeError: { code: 2349, hint: /^Hint: in tfjs `x\.size` is a number/ },
    runtime: { ename: 'TypeError', hint: /^Hint: in tfjs `x\.size` is a number/ },
  },
  {
    // Not PyTorch's, but the first thing its users write after a read: the read's union of typed arrays.
    code: 'const total = (await x.data()).reduce((a, b) => a + b, 0)',
    typeError: { code: 2349, hint: /^Hint: a read's values are a Float32Array, Int32Array or Uint8Array.*call reduce on.*`\(await x\.data<'float32'>\(\)\)\.reduce\(…\)`.*`Array\.from\(await x\.data\(\)\)\.reduce\(…\)`/ },
    runtime: null,
  },
  {
    code: 'const weights = tf.ones([3]);\nconst lastFirst = weights.dataSync().reduceRight((a, b) => a - b)',
    typeError: { code: 2349, hint: /^Hint: .*call reduceRight on.*`weights\.dataSync<'float32'>\(\)\.reduceRight\(…\)`.*`Array\.from\(weights\.dataSync\(\)\)\.reduceRight\(…\)`/ },
    runtime: null,
  },
  {
    code: "const device = torch.device('cuda')",
    typeError: { code: 2304, hint: /^Hint: a device is a string here, e\.g\. `const device = 'gpu:0'`.*'cuda' and 'cuda:N' are accepted names/ },
    runtime: { ename: 'ReferenceError', hint: /^Hint: a device is a string here/ },
  },
  {
    code: "await x.to({ type: 'cuda', index: 0 })",
    typeError: { code: 2345, hint: /^Hint: a device is a string here/ },
    runtime: null,
  },
  {
    // Python's import is a syntax error to TypeScript ("'=' expected"), whatever %typecheck says.
    code: 'import torch',
    typeError: { code: 1005, hint: /^Hint: `import torch` is Python's import\. Here TensorFlow\.js stands in for torch and is loaded already as `tf`.*`await x\.to\('gpu:0'\)`.*`import \* as name from 'package'`/ },
    runtime: { ename: 'TSError', hint: /^Hint: `import torch` is Python's import\./ },
  },
  {
    code: 'print(x)',
    typeError: { code: 2304, hint: /^Hint: `print\(…\)` is Python's: here `console\.log\(…\)` prints/ },
    runtime: { ename: 'ReferenceError', hint: /^Hint: `print\(…\)` is Python's/ },
  },
  {
    // Python's first assignment declares the name; here it must be declared.
    code: 'total = 5',
    typeError: { code: 2304, hint: /^Hint: `total` is not declared yet: declare it where it is first given a value, `let total = …` \(or `const`\)/ },
    runtime: { ename: 'ReferenceError', hint: /^Hint: `total` is not declared yet/ },
  },
  {
    code: 'import pandas',
    typeError: { code: 1005, hint: /^Hint: `import pandas` is Python's import\. Here TensorFlow\.js is loaded already as `tf`\. A package of your own comes in with TypeScript's import/ },
    runtime: { ename: 'TSError', hint: /^Hint: `import pandas` is Python's import\./ },
  },
];

function assertHintLast(traceback: readonly string[], hint: RegExp): void {
  assert.match(traceback.at(-1) ?? '', hint, `the traceback should end with the hint:\n${traceback.join('\n')}`);
}

async function setTypecheck(kernel: KernelClient, mode: 'on' | 'off'): Promise<void> {
  assert.equal(executeReply(await kernel.execute(`%typecheck ${mode}`)).status, 'ok');
}

describe('PyTorch habits get a hint in the type error', () => {
  const kernel = useKernel();
  before(async () => {
    assert.equal(executeReply(await kernel().execute(SETUP, {}, { timeoutMs: 60_000 })).status, 'ok');
  });

  for (const habit of HABITS) {
    test(`\`${habit.code}\` is TS${habit.typeError.code} ending with ${habit.typeError.hint}`, async () => {
      const error = cellError(await kernel().execute(habit.code, {}, { timeoutMs: 30_000 }));
      const [problem] = assertTsError(error);
      assert.equal(problem?.code, habit.typeError.code, error.traceback.join('\n'));
      assertHintLast(error.traceback, habit.typeError.hint);
    });
  }

  test('a magic after code on its line (`const kept = 42; %device gpu:0`) is a syntax error whose hint says a magic goes on a line of its own', async () => {
    const error = cellError(await kernel().execute('const keptBeside = 42; %device gpu:0', {}, { timeoutMs: 30_000 }));
    assertTsError(error);
    assert.ok(error.traceback.includes('Hint: a magic (%device, %time, …) is read as one only at the start of a line: put it on a line of its own.'), error.traceback.join('\n'));
  });

  test('a promise where a promise is wanted (`const p: Promise<number> = 1`) gets no await hint', async () => {
    const error = cellError(await kernel().execute('const wantsPromise: Promise<number> = 1'));
    assertTsError(error);
    assert.ok(!error.traceback.some((line) => line.startsWith('Hint:')), error.traceback.join('\n'));
  });
});

describe('PyTorch habits get the same hint at run time (%typecheck off)', () => {
  const kernel = useKernel();
  before(async () => {
    assert.equal(executeReply(await kernel().execute(SETUP, {}, { timeoutMs: 60_000 })).status, 'ok');
    await setTypecheck(kernel(), 'off');
  });

  for (const habit of HABITS) {
    const runtime = habit.runtime;
    if (runtime === null) continue;
    test(`\`${habit.code}\` fails with ${runtime.ename} ending with ${runtime.hint}`, async () => {
      const error = cellError(await kernel().execute(habit.code, {}, { timeoutMs: 30_000 }));
      assert.equal(error.ename, runtime.ename, error.traceback.join('\n'));
      assertHintLast(error.traceback, runtime.hint);
    });
  }

  test('a torch.device-like object passed to .to() is a DeviceError saying devices are named by strings, cuda aliases included', async () => {
    const error = cellError(await kernel().execute("await x.to({ type: 'cuda', index: 0 })", {}, { timeoutMs: 30_000 }));
    assert.equal(error.ename, 'DeviceError', error.traceback.join('\n'));
    assert.match(error.evalue, /^a device is named by a string \('cpu', 'gpu:0', or the aliases 'cuda', 'cuda:N'\), not an object/);
  });

  test('a device name that is none lists the devices and says cuda and cuda:N are accepted aliases', async () => {
    const error = cellError(await kernel().execute("await x.to('tpu')", {}, { timeoutMs: 60_000 }));
    assert.equal(error.ename, 'DeviceError', error.traceback.join('\n'));
    assert.match(error.evalue, /^no device "tpu": the devices here are cpu\b/);
    assert.match(error.evalue, /gpu, cuda and cuda:N are accepted aliases of gpu:0 and gpu:N/);
  });

  test('a near miss of a device name says which device it most likely meant; a name near none, or a GPU not here, gets the list alone', async () => {
    const currentBefore = streamText(await kernel().execute('%device'), 'stdout');
    assert.match(currentBefore, /^current device: /);
    for (const [code, meant] of [["%device 'gpu:0'", 'gpu:0'], ['%device gpu0', 'gpu:0'], ['%%device cuda_0\n1', 'gpu:0'], ['%device mps', 'gpu:0'],
      ["await x.to('GPU-0')", 'gpu:0'], ["await x.to('cpu0')", 'cpu'], ['%device "cpu"', 'cpu'], ['%device gpu:O', 'gpu:0'], ['%device cdua', 'gpu:0'],
      ["await x.to('webgpu:0')", 'gpu:0']] as const) {
      const error = cellError(await kernel().execute(code, {}, { timeoutMs: 60_000 }));
      assert.equal(error.ename, 'DeviceError', `${code}: ${error.traceback.join('\n')}`);
      assert.match(error.evalue, new RegExp(`^no device ".*?" \\(did you mean ${meant}\\?\\): the devices here are cpu\\b`), code);
    }
    // tpu is another device, not a typo of gpu; cuda1 is gpu:1, which is not here.
    for (const code of ['%device gpu:7', '%device banana', '%device tpu', '%device cuda1']) {
      const error = cellError(await kernel().execute(code, {}, { timeoutMs: 60_000 }));
      assert.doesNotMatch(error.evalue, /did you mean/, code);
      assert.match(error.evalue, /the devices here are cpu\b/, code);
    }
    // Refused, the current device is as it was.
    assert.equal(streamText(await kernel().execute('%device'), 'stdout'), currentBefore);
  });

  test('a device method on a string array still gets the asTensor hint, not the model one', async () => {
    const error = cellError(await kernel().execute("const habitLabels = ['1', '0']; habitLabels.cuda()"));
    assert.equal(error.ename, 'TypeError');
    assertHintLast(error.traceback, /^Hint: arrays and strings are not tensors/);
  });

  test('a missing method on a plain object gets no hint', async () => {
    const error = cellError(await kernel().execute('const plainThing = { a: 1 }; (plainThing as any).numpy()'));
    assert.equal(error.ename, 'TypeError');
    assert.ok(!error.traceback.some((line) => line.startsWith('Hint:')), error.traceback.join('\n'));
  });
});

describe('a model call given plain data names the argument and the fix (%typecheck off)', () => {
  const kernel = useKernel();
  before(async () => {
    assert.equal(executeReply(await kernel().execute(`${SETUP}\nmodel.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });`, {}, { timeoutMs: 60_000 })).status, 'ok');
    await setTypecheck(kernel(), 'off');
  });

  const CASES: { code: string; message: RegExp }[] = [
    { code: "await model.fit(tf.ones([4, 2]), ['1', '0', '1', '0'], { epochs: 1 })", message: /^model\.fit: y is an array \[ '1', '0', '1', '0' \], not a tensor\. Make it one first: asTensor\(y, 'int32'\)/ },
    { code: 'await model.fit([[1, 2]], [1], { epochs: 1 })', message: /^model\.fit: x is an array \[ \[ 1, 2 \] \], not a tensor\. Make it one first: asTensor\(x\), or tf\.tensor2d\(rows\)/ },
    { code: 'model.predict([[1, 2]])', message: /^model\.predict: x is an array .*asTensor\(x\), or tf\.tensor2d\(rows\)/ },
    { code: 'await model.evaluate(tf.ones([4, 2]), [1, 0, 1, 0])', message: /^model\.evaluate: y is an array .*asTensor\(y\)/ },
    { code: 'await model.trainOnBatch([[1, 2]], tf.ones([1, 1]))', message: /^model\.trainOnBatch: x is an array / },
    { code: "const xinRun = withDevice('cpu', () => tf.ones([1, 2])); model.predict(xinRun)", message: /^model\.predict: x is a Promise, not a tensor: .*Add `await` where it is made: `const x = await withDevice\(…\)`/ },
    { code: "await model.fit(tf.ones([4, 2]), tf.tensor(['1', '0', '1', '0']), { epochs: 1 })", message: /^model\.fit: y is a string tensor; a model needs numbers\. .*asTensor\(labels, 'int32'\)/ },
  ];
  for (const { code, message } of CASES) {
    test(`\`${code}\` is a TypeError matching ${message}, with the cell line under a caret`, async () => {
      const error = cellError(await kernel().execute(code, {}, { timeoutMs: 60_000 }));
      assert.equal(error.ename, 'TypeError', error.traceback.join('\n'));
      assert.match(error.evalue, message);
      assert.ok(error.traceback.includes(`1 | ${code}`), error.traceback.join('\n'));
    });
  }

  test('an array of tensors (a model with several inputs takes them so) is passed on to tfjs, not refused', async () => {
    const error = cellError(await kernel().execute('model.predict([tf.ones([1, 2]), tf.ones([1, 2])])', {}, { timeoutMs: 60_000 }));
    assert.doesNotMatch(error.evalue, /not a tensor/);
  });
});

describe('a tensor read printed instead of awaited (console.log(x.sum().item()))', () => {
  const kernel = useKernel();
  before(async () => {
    assert.equal(executeReply(await kernel().execute(SETUP, {}, { timeoutMs: 60_000 })).status, 'ok');
  });

  test('prints the Promise with a note, no kernel internals, and the cell warns that line 2 did not await it', async () => {
    const exchange = await kernel().execute("const readOnce = 1;\nconsole.log(x.sum().item());", {}, { timeoutMs: 60_000 });
    assert.equal(executeReply(exchange).status, 'ok');
    const stdout = streamText(exchange, 'stdout');
    assert.match(stdout, /^Promise \{ .* \} \(not awaited: x\.item\(\) is asynchronous; write `await x\.item\(\)` to get its value\)/);
    for (const internal of ['CellContext', 'stoppers', 'executionCount', 'async_id_symbol', 'kResourceStore']) assert.ok(!stdout.includes(internal), `${internal} in ${stdout}`);
    assert.match(streamText(exchange, 'stderr'), /Warning: `x\.item\(\)` at line 2 was not awaited: its Promise was printed, not its value/);
  });

  test('a promise of the user\'s own prints as Node prints it, without kernel internals', async () => {
    const stdout = streamText(await kernel().execute('console.log(Promise.resolve(7))'), 'stdout');
    assert.equal(stdout, 'Promise { 7 }\n');
  });
});
