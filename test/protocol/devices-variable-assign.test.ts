// `v.assign(value)` gives a variable the value's data, on the value's device: a variable on gpu:0
// assigned a value made on cpu is on cpu from then on, and so are its ops. The cell says so, once
// per line, naming both devices; an assign that keeps the device says nothing. Each case reads the
// variable's device itself (`v.device`) before and after, and checks the warning against that.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { countOf, runOk, useDeviceKernel, valueOf } from '../support/devices';

describe('Variable.assign across devices', () => {
  const kernel = useDeviceKernel();

  test('setup: two variables made on gpu:0, cpu current', async () => {
    await runOk(kernel(), "%device gpu:0\nconst v = tf.variable(tf.zeros([4]), true, 'weights');\nconst kept = tf.variable(tf.zeros([4]), true, 'kept');\n%device cpu\n0");
    assert.equal(await valueOf(kernel(), '[v.device, kept.device]'), "[ 'gpu:0', 'gpu:0' ]");
  });

  test('a value made on cpu takes a gpu:0 variable to cpu: the cell warns at that line, naming the variable and both devices', async () => {
    const exchange = await runOk(kernel(), '0;\nv.assign(tf.ones([4]));\nv.device');
    const warning = streamText(exchange, 'stderr');
    assert.equal(await valueOf(kernel(), 'v.device'), "'cpu'", 'the premise: the variable is on cpu now');
    assert.match(warning, new RegExp(`^Warning \\(cell ${countOf(exchange)}, line 2\\): variable 'weights' was on gpu:0 and is on cpu now: `
      + "assign\\(\\) gives it the new value's data, .* To keep it on gpu:0, make the value there \\(%device gpu:0, or await value\\.to\\('gpu:0'\\) before assign\\)\\.$", 'm'), warning);
    assert.equal(await valueOf(kernel(), 'Array.from(await v.data())'), '[ 1, 1, 1, 1 ]', 'the value is the assigned one');
  });

  test('a value made where the variable lives: no warning, the device unchanged', async () => {
    const exchange = await runOk(kernel(), "const onGpu = await tf.ones([4]).to('gpu:0');\nkept.assign(onGpu);\nkept.device");
    assert.equal(streamText(exchange, 'stderr'), '', 'no warning');
    assert.equal(await valueOf(kernel(), 'kept.device'), "'gpu:0'");
  });

  test('many assigns from one line (an update loop): one warning', async () => {
    await runOk(kernel(), "await v.to('gpu:0');\n0");
    const exchange = await runOk(kernel(), 'for (let step = 0; step < 5; step++) {\n  v.assign(tf.fill([4], step));\n}\nv.device');
    const warnings = streamText(exchange, 'stderr').split('\n').filter((line) => line.startsWith('Warning'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /\(cell \d+, line 2\): variable 'weights' was on gpu:0 and is on cpu now/);
  });
});

describe('Variable.assign of a variable made without a name', () => {
  const kernel = useDeviceKernel();

  test('the warning says tfjs numbered it, not "variable \'3\'" as if the user had named it so', async () => {
    const exchange = await runOk(kernel(), "const unnamed = tf.variable(tf.zeros([4]));\nunnamed.assign(await tf.ones([4]).to('gpu:0'));\n[unnamed.name, unnamed.device]");
    const [, name = '', device = ''] = /^\[ '(\d+)', '([\w:]+)' \]$/.exec(await valueOf(kernel(), '[unnamed.name, unnamed.device]') ?? '') ?? [];
    assert.equal(device, 'gpu:0', 'the premise: the assign took it to gpu:0');
    assert.match(streamText(exchange, 'stderr'), new RegExp(`^Warning \\(cell ${countOf(exchange)}, line 2\\): a variable tfjs numbered '${name}' \\(one made without a name, or an optimizer's own state\\) was on cpu and is on gpu:0 now: `, 'm'));
  });
});
