// Bad input to asTensor and tfjs's factories is an error that names the argument and the element,
// and creates nothing: tfjs 4.22 alone makes a [2, 2] tensor of three values from [[1, 2], [3]],
// NaN from 'x', 0 from null. After each refusal the kernel still runs cells, what was made before
// is intact, and live bytes (%memory) and tfjs's tensor count are what they were.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorOf, liveBytes, printed, runOk, useDeviceKernel, valueOf } from '../support/devices';

interface BadInput {
  code: string;
  /** What the error must say: the position, and for most what to do. */
  says: RegExp[];
  ename?: string;
}

/** Each line of the table in the issue: ragged lists, non-numeric strings, bad shapes and dtypes. */
const BAD_INPUTS: BadInput[] = [
  // Ragged lists: tfjs alone returns a tensor for each of these.
  { code: 'asTensor([1, [2]])', says: [/element \[1\] is a list where element \[0\] is a single value/, /same|equally/] },
  { code: 'asTensor([[1, 2], [3]])', says: [/element \[1\] has 1 element where element \[0\] has 2/, /pad/] },
  { code: 'asTensor([[1], 2])', says: [/element \[1\] is 2 where a list was expected/] },
  { code: 'tf.tensor([1, [2]])', says: [/^tf\.tensor: values\[1\] is a list/] },
  { code: 'tf.tensor([[1, 2], [3]])', says: [/^tf\.tensor: values\[1\] has 1 element where values\[0\] has 2/] },
  { code: 'tf.tensor2d([[1], [2, 3]])', says: [/^tf\.tensor2d: values\[1\] has 2 elements where values\[0\] has 1/] },
  { code: 'tf.tensor3d([[[1]], [[2, 3]]])', says: [/^tf\.tensor3d: values\[1\]\[0\] has 2 elements where values\[0\]\[0\] has 1/] },
  { code: 'tf.tensor6d([[[[[[1]]]]], [[[[[2, 3]]]]]])', says: [/^tf\.tensor6d: values\[1\]\[0\]\[0\]\[0\]\[0\] has 2 elements/] },
  // Values that are not numbers in a numeric tensor: tfjs alone stores NaN or 0.
  { code: "asTensor([[1, 'x']])", says: [/element \[0\]\[1\] is "x", which is not a number/] },
  { code: "tf.tensor([1, 'x'])", says: [/values\[1\] is "x", which is not a number/, /float32/] },
  { code: "tf.tensor(['a', 'b'], [2], 'float32')", says: [/values\[0\] is "a", which is not a number \(dtype 'float32'\)/, /dtype 'string'/] },
  { code: 'tf.tensor([1, null] as any)', says: [/values\[1\] is null, which is not a number/] },
  { code: "tf.tensor1d(['x'], 'int32')", says: [/^tf\.tensor1d: values\[0\] is "x"/] },
  { code: "tf.fill([2], 'x', 'float32')", says: [/^tf\.fill: argument 2 \(value\) is "x", which is not a number/] },
  { code: "tf.scalar('x', 'float32')", says: [/^tf\.scalar: argument 1 \(value\) is "x"/] },
  { code: "tf.randomNormal([2], 'a' as any)", says: [/^tf\.randomNormal: argument 2 \(mean\) is "a"/] },
  // Shapes: tfjs refuses these, but says neither which size nor, for a bare number, anything useful.
  { code: 'tf.zeros([2, NaN])', says: [/^tf\.zeros: argument 1 \(shape\) \[2, NaN\] has NaN at shape\[1\]/, /whole number ≥ 0/], ename: 'RangeError' },
  { code: 'tf.ones([-1])', says: [/^tf\.ones: argument 1 \(shape\) \[-1\] has -1 at shape\[0\]/], ename: 'RangeError' },
  { code: 'tf.fill([2.5], 1)', says: [/^tf\.fill: argument 1 \(shape\) \[2\.5\] has 2\.5 at shape\[0\]/], ename: 'RangeError' },
  { code: 'tf.randomNormal([3, -2])', says: [/^tf\.randomNormal: .* has -2 at shape\[1\]/], ename: 'RangeError' },
  { code: 'tf.randomUniform([Infinity])', says: [/^tf\.randomUniform: .* has Infinity at shape\[0\]/], ename: 'RangeError' },
  { code: 'tf.tensor([1, 2], [NaN])', says: [/^tf\.tensor: argument 2 \(shape\) \[NaN\] has NaN at shape\[0\]/], ename: 'RangeError' },
  { code: "tf.zeros(['3'] as any)", says: [/has "3" at shape\[0\]/, /not a string/] },
  { code: 'tf.zeros(3 as any)', says: [/^tf\.zeros: argument 1 \(shape\) is 3; a shape is a list of sizes/, /\[3\]/] },
  // Dtype names tfjs lacks: tfjs says only "Unknown data type float64".
  { code: "tf.tensor([1], [1], 'float64' as any)", says: [/^tf\.tensor: argument 3 \(dtype\) is "float64"/, /'float32'/] },
  { code: "tf.zeros([2], 'int64' as any)", says: [/^tf\.zeros: argument 2 \(dtype\) is "int64"/, /'int32'/] },
  { code: "tf.randomUniform([2], 0, 1, 'float' as any)", says: [/^tf\.randomUniform: argument 4 \(dtype\) is "float"/] },
  { code: "asTensor([1, 2], 'float64' as any)", says: [/^asTensor: argument 2 \(dtype\) is "float64"/, /'float32', 'int32' or 'bool'/] },
  // tfjs's own refusals, kept: its words already say what is wrong.
  { code: 'tf.tensor([1, 2, 3], [2, 2])', says: [/shape, \[2,2\], the tensor should have 4 values but has 3/], ename: 'Error' },
];

describe('bad input is an error, and nothing is created', () => {
  const kernel = useDeviceKernel();

  /** What must not change across a refused cell. */
  const state = async (): Promise<{ bytes: number; error: number; tensors: string | undefined; kept: string | undefined }> => {
    const live = liveBytes(await printed(kernel(), '%memory'), 'cpu');
    const tensors = await valueOf(kernel(), 'tf.memory().numTensors');
    const kept = await valueOf(kernel(), 'Array.from(keptBeforeBadInput.dataSync())');
    return { ...live, tensors, kept };
  };

  test('a tensor made before the bad inputs', async () => {
    await runOk(kernel(), 'const keptBeforeBadInput = tf.tensor([1.5, 2.5, 3.5]);');
    assert.equal(await valueOf(kernel(), 'Array.from(keptBeforeBadInput.dataSync())'), '[ 1.5, 2.5, 3.5 ]');
  });

  for (const bad of BAD_INPUTS) {
    test(`${bad.code} is ${bad.ename ?? 'a TypeError'} naming the position; the kernel, earlier tensors and live bytes stay`, async () => {
      const before = await state();
      const error = await errorOf(kernel(), bad.code);
      assert.equal(error.ename, bad.ename ?? 'TypeError', `${error.ename}: ${error.evalue}`);
      for (const says of bad.says) assert.match(error.evalue, says);
      const after = await state();
      assert.equal(after.kept, '[ 1.5, 2.5, 3.5 ]', 'the tensor made before was changed');
      assert.equal(after.tensors, before.tensors, `tfjs's tensor count changed across ${bad.code}`);
      assert.ok(Math.abs(after.bytes - before.bytes) <= before.error + after.error,
        `cpu live bytes ${before.bytes} B -> ${after.bytes} B across ${bad.code}`);
      assert.equal(await valueOf(kernel(), '6 * 7'), '42');
    });
  }

  // String tensors are left out: the wasm backend that runs 'cpu' refuses them ("Unknown dtype string").
  test('good input still works: equal rows, numeric strings, typed-array rows, empty shapes, booleans, NaN', async () => {
    const code = [
      "const good = [tf.tensor([[1, 2], [3, 4]]), tf.tensor(['1', '2'], [2], 'float32'), tf.tensor([new Float32Array([1, 2]), new Float32Array([3, 4])]),",
      "  tf.zeros([0, 3]), tf.randomUniform([2, 0]), asTensor([[true, false]]), tf.tensor([1, NaN]), tf.tensor([true, false])];",
      "const shown = good.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ');",
      'good.forEach((t) => t.dispose());',
      'shown',
    ].join('\n');
    assert.equal(await valueOf(kernel(), code), "'float32[2,2] float32[2] float32[2,2] float32[0,3] float32[2,0] float32[1,2] float32[2] bool[2]'");
  });
});
