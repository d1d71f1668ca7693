// Tensors and their device: x.device, moving with to/cuda/cpu, reading values back, the error a
// synchronous read of a GPU tensor gives, asTensor, and how a tensor shows as a result.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorOf, runOk, useDeviceKernel, valueOf } from '../support/devices';

/** A synchronous GPU read must say what to await instead. */
const SAYS_WHAT_TO_AWAIT = /await x\.data\(\)|await x\.cpu\(\)/;

describe('tensors on devices', () => {
  const kernel = useDeviceKernel();

  test("the tensor API is also importable: import { tf, asTensor, bestDevice } from 'tsgpu'", async () => {
    const value = await valueOf(kernel(), "import { tf as tsgpuTf, asTensor as tsgpuAsTensor, bestDevice as best } from 'tsgpu';\n"
      + '[tsgpuTf.ones([2]).shape.length, tsgpuAsTensor([1, 2, 3]).size, best()]');
    assert.equal(value, "[ 1, 3, 'cpu' ]");
  });

  test("a new tensor is on the host: x.device is 'cpu'", async () => {
    assert.equal(await valueOf(kernel(), 'const hostMade = tf.tensor([1, 2, 3]);\nhostMade.device'), "'cpu'");
  });

  test("`await x.to('gpu:0')` moves x itself: it resolves with x, and x.device is then 'gpu:0'", async () => {
    await runOk(kernel(), 'const moved = tf.tensor([1, 2, 3]);');
    assert.equal(await valueOf(kernel(), "const sameTensor = (await moved.to('gpu:0')) === moved;\n[sameTensor, moved.device]"),
      "[ true, 'gpu:0' ]");
    assert.equal(await valueOf(kernel(), 'moved.device'), "'gpu:0'");
  });

  test('a clone or a reshaped view moves alone: the tensor it shares its buffer with stays where it was, with its values (float32, int32, bool, a scalar)', async () => {
    const code = [
      "const kept = await tf.tensor([1.5, -0, 3, 4]).to('gpu:0');",
      "const keptInts = await tf.tensor([1, -2, 2147483647], [3], 'int32').to('gpu:0');",
      "const keptBools = await tf.tensor([true, false, true], [3], 'bool').to('gpu:0');",
      "const keptScalar = await tf.scalar(7).to('gpu:0');",
      "const copies = [kept.clone(), kept.reshape([2, 2]), keptInts.clone(), keptBools.clone(), keptScalar.clone()];",
      "for (const copy of copies) await copy.to('cpu');",
      'const originals = [kept, kept, keptInts, keptBools, keptScalar];',
      'const same = await Promise.all(copies.map(async (copy, i) => JSON.stringify(Array.from(await copy.data())) === JSON.stringify(Array.from(await originals[i]!.data()))));',
      '[originals.map((one) => one.device), copies.map((one) => one.device), same, Object.is((await kept.data())[1], -0)]',
    ].join('\n');
    assert.equal(await valueOf(kernel(), code),
      "[\n  [ 'gpu:0', 'gpu:0', 'gpu:0', 'gpu:0', 'gpu:0' ],\n  [ 'cpu', 'cpu', 'cpu', 'cpu', 'cpu' ],\n  [ true, true, true, true, true ],\n  true\n]");
  });

  test("clones of a model's weights moved to cpu (PyTorch's way to keep a copy) leave the model's weights on gpu:0", async () => {
    const code = [
      "const weighed = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });",
      "await weighed.to('gpu:0');",
      "const savedWeights = await Promise.all(weighed.getWeights().map((weight) => weight.clone().to('cpu')));",
      '[weighed.getWeights().map((weight) => weight.device), savedWeights.map((weight) => weight.device)]',
    ].join('\n');
    assert.equal(await valueOf(kernel(), code), "[ [ 'gpu:0', 'gpu:0' ], [ 'cpu', 'cpu' ] ]");
  });

  test('a moved clone that nothing reaches any more is freed alone: the tensor it was cloned from keeps its buffer and values, and the bytes come back', async () => {
    await runOk(kernel(), "const source = await tf.tensor([5, 6, 7, 8]).to('gpu:0');\nawait source.data();\n0");
    // Earlier tests' dropped tensors go first: the count after is this test's alone.
    await runOk(kernel(), '%gc');
    const before = await valueOf(kernel(), 'tf.memory().numTensors');
    // Made in one cell (the kernel then watches it for collection), moved in the next, then dropped: the collection frees it.
    await runOk(kernel(), 'let dropped: tf.Tensor | null = source.clone();\n0');
    await runOk(kernel(), "await dropped!.to('cpu');\ndropped = null;\n0");
    await runOk(kernel(), '%gc');
    assert.equal(await valueOf(kernel(), '[source.device, source.isDisposed, Array.from(await source.add(1).data()), tf.memory().numTensors]'),
      `[ 'gpu:0', false, [ 6, 7, 8, 9 ], ${Number(before) + 1} ]`);
  });

  test("`await x.cuda()` and `await x.cuda(0)` move to gpu:0, `await x.cpu()` brings it back to 'cpu'", async () => {
    const code = [
      'const shuttle = tf.ones([2]);',
      'const stops: string[] = [];',
      'stops.push((await shuttle.cuda()).device);',
      'stops.push((await shuttle.cpu()).device);',
      'stops.push((await shuttle.cuda(0)).device);',
      'await shuttle.cpu();',
      "stops.push((await shuttle.to('cuda')).device);",
      'stops',
    ].join('\n');
    assert.equal(await valueOf(kernel(), code), "[ 'gpu:0', 'cpu', 'gpu:0', 'gpu:0' ]");
  });

  test('`await x.item()` gives the number in a one-element tensor, on the host and on gpu:0', async () => {
    assert.equal(await valueOf(kernel(), 'await tf.scalar(3.5).item()'), '3.5');
    assert.equal(await valueOf(kernel(), 'await (await tf.tensor([7.25]).cuda()).item()'), '7.25');
  });

  test('`await x.item()` on a tensor of several elements is a TypeError', async () => {
    const error = await errorOf(kernel(), 'await tf.tensor([[1, 2], [3, 4]]).item()');
    assert.equal(error.ename, 'TypeError', `${error.ename}: ${error.evalue}`);
  });

  test('an op on gpu:0 inputs runs on gpu:0, and its result is right', async () => {
    await runOk(kernel(), "const gpuA = await tf.tensor([1, 2, 3]).to('gpu:0');\nconst gpuB = await tf.tensor([10, 20, 30]).to('gpu:0');");
    assert.equal(await valueOf(kernel(), 'const gpuSum = gpuA.add(gpuB);\ngpuSum.device'), "'gpu:0'");
    assert.equal(await valueOf(kernel(), 'Array.from(await gpuSum.data())'), '[ 11, 22, 33 ]');
  });

  test('chained ops on gpu:0 (matMul, relu, sum) stay on gpu:0', async () => {
    const code = [
      "const m = await tf.tensor2d([[1, -2], [3, 4]]).to('gpu:0');",
      'const chained = m.matMul(m).relu().sum();',
      '[chained.device, await chained.item()]',
    ].join('\n');
    // [[1,-2],[3,4]]² = [[-5,-10],[15,10]]; relu and sum: 25.
    assert.equal(await valueOf(kernel(), code), "[ 'gpu:0', 25 ]");
  });

  test('values come back from gpu:0 exactly: `await x.data()` equals the float32 input', async () => {
    const code = [
      'const exactInput = Array.from({ length: 64 }, (_, i) => (i - 32) * 0.37 + 1 / (i + 1));',
      "const exact = await tf.tensor(exactInput).to('gpu:0');",
      'const back = Array.from(await exact.data());',
      'const wanted = Array.from(new Float32Array(exactInput));',
      "[exact.device, back.length === wanted.length && back.every((v, i) => Object.is(v, wanted[i])) ? 'equal' : JSON.stringify({ back, wanted })]",
    ].join('\n');
    assert.equal(await valueOf(kernel(), code), "[ 'gpu:0', 'equal' ]");
  });

  test('int32 values come back from gpu:0 exactly', async () => {
    const code = [
      'const ints = [0, 1, -1, 2147483647, -2147483648, 123456789];',
      "const onGpuInts = await tf.tensor(ints, [6], 'int32').to('gpu:0');",
      '[onGpuInts.device, onGpuInts.dtype, JSON.stringify(Array.from(await onGpuInts.data())) === JSON.stringify(ints)]',
    ].join('\n');
    assert.equal(await valueOf(kernel(), code), "[ 'gpu:0', 'int32', true ]");
  });

  for (const read of ['dataSync()', 'arraySync()', 'print()']) {
    test(`\`x.${read}\` on a gpu:0 tensor not read yet is a DeviceError saying to await x.data() or x.cpu()`, async () => {
      const name = `unread_${read.replace(/\W/g, '')}`;
      await runOk(kernel(), `const ${name} = (await tf.tensor([1, 2]).to('gpu:0')).add(1);`);
      const error = await errorOf(kernel(), `${name}.${read}`);
      assert.equal(error.ename, 'DeviceError', `${error.ename}: ${error.evalue}`);
      assert.match(error.evalue, SAYS_WHAT_TO_AWAIT);
      assert.ok(!error.traceback.join('\n').includes('OffscreenCanvas'), error.traceback.join('\n'));
    });
  }

  test('after `await x.data()`, `x.dataSync()` on the gpu:0 tensor works', async () => {
    await runOk(kernel(), "const readFirst = (await tf.tensor([1, 2]).to('gpu:0')).mul(3);");
    assert.equal(await valueOf(kernel(), 'await readFirst.data();\n[readFirst.device, Array.from(readFirst.dataSync())]'),
      "[ 'gpu:0', [ 3, 6 ] ]");
  });

  test('asTensor(nested arrays) keeps their shape', async () => {
    assert.equal(await valueOf(kernel(), 'const nested = asTensor([[1, 2], [3, 4]]);\n[nested.shape, nested.dtype, Array.from(await nested.data())]'),
      "[ [ 2, 2 ], 'float32', [ 1, 2, 3, 4 ] ]");
  });

  test('asTensor(a typed array) keeps its values', async () => {
    assert.equal(await valueOf(kernel(), 'const typed = asTensor(new Float32Array([1.5, -2, 0.25]));\n[typed.shape, Array.from(await typed.data())]'),
      '[ [ 3 ], [ 1.5, -2, 0.25 ] ]');
  });

  test("asTensor('3') is a scalar and asTensor(['1.5', '2']) reads numeric strings", async () => {
    assert.equal(await valueOf(kernel(), "const three = asTensor('3');\n[three.shape, await three.item()]"), '[ [], 3 ]');
    assert.equal(await valueOf(kernel(), "Array.from(await asTensor(['1.5', '2']).data())"), '[ 1.5, 2 ]');
  });

  test("asTensor('1,0,1') is the tensor [1, 0, 1]", async () => {
    assert.equal(await valueOf(kernel(), "const commas = asTensor('1,0,1');\n[commas.shape, Array.from(await commas.data())]"),
      '[ [ 3 ], [ 1, 0, 1 ] ]');
  });

  // Dropped, an empty field shifted every later label onto the wrong sample.
  test("asTensor('1,2,,3') is a TypeError naming the empty element [2], not [1, 2, 3]; '1, 0 ,1' and '1 0 1' still read", async () => {
    const error = await errorOf(kernel(), "asTensor('1,2,,3')");
    assert.equal(error.ename, 'TypeError', `${error.ename}: ${error.evalue}`);
    assert.ok(error.evalue.includes('[2]'), error.evalue);
    assert.equal(await valueOf(kernel(), "Array.from(await asTensor(' 1, 0 ,1 ').data())"), '[ 1, 0, 1 ]');
    assert.equal(await valueOf(kernel(), "Array.from(await asTensor('1 0  1').data())"), '[ 1, 0, 1 ]');
  });

  test("asTensor(['1','0','1'], 'int32') is the int32 tensor [1, 0, 1]", async () => {
    assert.equal(await valueOf(kernel(), "const intLabels = asTensor(['1', '0', '1'], 'int32');\n[intLabels.dtype, intLabels.shape, Array.from(await intLabels.data())]"),
      "[ 'int32', [ 3 ], [ 1, 0, 1 ] ]");
  });

  test("asTensor(['1','x']) is a TypeError naming element [1] and \"x\"", async () => {
    const error = await errorOf(kernel(), "asTensor(['1', 'x'])");
    assert.equal(error.ename, 'TypeError', `${error.ename}: ${error.evalue}`);
    assert.ok(error.evalue.includes('[1]'), error.evalue);
    assert.ok(error.evalue.includes('"x"'), error.evalue);
  });

  test('a host tensor shows its shape, dtype, device and values', async () => {
    const text = await valueOf(kernel(), 'tf.tensor([[7.5, 8.25]])');
    assert.ok(text !== undefined, 'no result shown');
    assert.match(text, /\[1,\s*2\]/, text);
    assert.match(text, /\bfloat32\b/, text);
    assert.match(text, /\bcpu\b/, text);
    assert.ok(text.includes('7.5') && text.includes('8.25'), text);
  });

  test('a gpu:0 tensor shows its shape, dtype and device', async () => {
    const text = await valueOf(kernel(), "await asTensor([[1, 2, 3]], 'int32').to('gpu:0')");
    assert.ok(text !== undefined, 'no result shown');
    assert.match(text, /\[1,\s*3\]/, text);
    assert.match(text, /\bint32\b/, text);
    assert.match(text, /\bgpu:0\b/, text);
  });
});
