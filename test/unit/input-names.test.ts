// Advice about a policy's move names the tensor the line passed: `x.matMul(z)` moved z.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inputNameOnLine } from '../../kernel/device/input-names';

test('a method call names its receiver as a (or x) and its first argument as b', () => {
  assert.equal(inputNameOnLine('const y = x.matMul(z);', 'b'), 'z');
  assert.equal(inputNameOnLine('const y = x.matMul(z);', 'a'), 'x');
  assert.equal(inputNameOnLine('x.add(z2)', 'b'), 'z2');
  assert.equal(inputNameOnLine('const r = h.relu();', 'x'), 'h');
  assert.equal(inputNameOnLine('const y = x.matMul(z).relu();', 'b'), 'z', 'a call on the result is no second op of a name');
  assert.equal(inputNameOnLine('total += (await w.mul(v).data())[0];', 'b'), 'v');
});

test('tf.op(a, b) names its arguments in order', () => {
  assert.equal(inputNameOnLine('const s = tf.add(ga, hb);', 'b'), 'hb');
  assert.equal(inputNameOnLine('const s = tf.add(ga, hb);', 'a'), 'ga');
  assert.equal(inputNameOnLine('const m = await tf.matMul(p, q).data();', 'b'), 'q');
});

test('no name where the line does not say: an argument that is no name, two ops, no op', () => {
  assert.equal(inputNameOnLine('onGpu.add(tf.ones([4]))', 'b'), null);
  assert.equal(inputNameOnLine('const y = a.add(b).mul(c); const z = d.sub(e);', 'b'), null);
  assert.equal(inputNameOnLine('const y = x.add(z); const w = u.sub(v);', 'b'), null);
  assert.equal(inputNameOnLine('await x.to("gpu:0")', 'b'), null);
  assert.equal(inputNameOnLine('', 'a'), null);
  assert.equal(inputNameOnLine('model.predict(batch)', 'c'), null);
});
