// Advice about a policy's move names the tensor the line passed: `x.matMul(z)` moved z.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inputNameOnLine } from '../../kernel/device/input-names';

test('a method call of the op that ran names its receiver as a (or x) and its first argument as b', () => {
  assert.equal(inputNameOnLine('const y = x.matMul(z);', 'b', 'BatchMatMul'), 'z');
  assert.equal(inputNameOnLine('const y = x.matMul(z);', 'a', '_FusedMatMul'), 'x');
  assert.equal(inputNameOnLine('x.add(z2)', 'b', 'Add'), 'z2');
  assert.equal(inputNameOnLine('const r = h.relu();', 'x', 'Relu'), 'h');
  assert.equal(inputNameOnLine('total += (await w.mul(v).data())[0];', 'b', 'Multiply'), 'v', 'a read of the result is no op');
});

test('tf.op(a, b) names its arguments in order', () => {
  assert.equal(inputNameOnLine('const s = tf.add(ga, hb);', 'b', 'Add'), 'hb');
  assert.equal(inputNameOnLine('const s = tf.add(ga, hb);', 'a', 'Add'), 'ga');
  assert.equal(inputNameOnLine('const m = await tf.matMul(p, q).data();', 'b', 'BatchMatMul'), 'q');
});

test('no name where the line does not say: a library call, another op, two ops, an argument that is no name', () => {
  // Inside predict the dense layer's matMul takes the batch as `a`: `model` is no input of it.
  assert.equal(inputNameOnLine('model.predict(hostBatch)', 'a', '_FusedMatMul'), null);
  // The op that ran is not the line's: a reshape inside matMul, say.
  assert.equal(inputNameOnLine('const y = x.matMul(z);', 'x', 'Reshape'), null);
  // The Multiply's `a` is the sigmoid's result, not x.
  assert.equal(inputNameOnLine('const y = x.sigmoid().mul(z);', 'a', 'Multiply'), null);
  assert.equal(inputNameOnLine('onGpu.add(tf.ones([4]))', 'b', 'Add'), null);
  assert.equal(inputNameOnLine('const y = x.add(z); const w = u.add(v);', 'b', 'Add'), null);
  assert.equal(inputNameOnLine('await x.to("gpu:0")', 'b', 'Add'), null);
  assert.equal(inputNameOnLine('', 'a', 'Add'), null);
  // tf under another name: its function's arguments are no receiver and argument.
  assert.equal(inputNameOnLine('const y2 = T.matMul(w, z1);', 'a', 'BatchMatMul'), null);
  assert.equal(inputNameOnLine('const y2 = T.matMul(w, z1);', 'b', 'BatchMatMul'), null);
});
