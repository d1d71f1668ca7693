// The IPython magics a notebook user reaches for around device work: %time / %%time, %timeit,
// %who and %env, with IPython's output formats.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resultText, streamText } from '../support/exchange';
import { printed, runOk, useDeviceKernel, valueOf } from '../support/devices';

const TIME = String.raw`\d+(?:\.\d+)?(?:e[+-]\d+)? (?:s|ms|µs|ns)`;
const CPU_TIMES = new RegExp(`^CPU times: user ${TIME}, sys: ${TIME}, total: ${TIME}$`, 'm');
const WALL_TIME = new RegExp(`^Wall time: ${TIME}$`, 'm');

describe('magics around device work', () => {
  const kernel = useDeviceKernel();

  test('`%device gpu:0` then `%device cpu` between statements: each tensor is made on the device current at its line, and %device says cpu at the end', async () => {
    const cell = "%device gpu:0\nconst madeOnGpu = tf.ones([2]);\n%device cpu\nconst madeOnCpu = tf.ones([2]);\n[madeOnGpu.device, madeOnCpu.device].join()";
    assert.equal(await valueOf(kernel(), cell), "'gpu:0,cpu'");
    assert.match(await printed(kernel(), '%device'), /^current device: cpu\n$/);
  });

  test('`%time CODE` prints "CPU times: …" and "Wall time: …"', async () => {
    const text = await printed(kernel(), '%time Math.sqrt(2)');
    assert.match(text, CPU_TIMES, text);
    assert.match(text, WALL_TIME, text);
  });

  test('`%%time` prints "Wall time: …" and the cell still shows its value', async () => {
    const exchange = await runOk(kernel(), '%%time\nlet timedTotal = 0;\nfor (let i = 0; i < 1000; i++) timedTotal += i;\ntimedTotal');
    assert.match(streamText(exchange, 'stdout'), WALL_TIME, streamText(exchange, 'stdout'));
    assert.equal(resultText(exchange), '499500');
  });

  test('`%%time` on a cell with gpu:0 work prints "Wall time: …" and its value', async () => {
    const exchange = await runOk(kernel(), "%%time\nconst timedGpu = await tf.ones([64]).to('gpu:0');\nawait timedGpu.add(1).sum().item()");
    assert.match(streamText(exchange, 'stdout'), WALL_TIME, streamText(exchange, 'stdout'));
    assert.equal(resultText(exchange), '128');
  });

  test('`%timeit -n 3 -r 2 CODE` prints "… per loop (mean ± std. dev. of 2 runs, 3 loops each)"', async () => {
    const text = await printed(kernel(), '%timeit -n 3 -r 2 Math.sqrt(2)');
    assert.match(text, new RegExp(`^${TIME} ± ${TIME} per loop \\(mean ± std\\. dev\\. of 2 runs, 3 loops each\\)$`, 'm'), text);
  });

  test('`%timeit -n 3 -r 2 CODE` runs the code 3 × 2 = 6 times', async () => {
    await runOk(kernel(), 'let timeitCalls = 0;');
    await printed(kernel(), '%timeit -n 3 -r 2 timeitCalls++');
    assert.equal(await valueOf(kernel(), 'timeitCalls'), '6');
  });

  test('`%timeit` times gpu:0 work too', async () => {
    await runOk(kernel(), "const timeitGpu = await tf.ones([64]).to('gpu:0');");
    const text = await printed(kernel(), '%timeit -n 3 -r 2 timeitGpu.add(1)');
    assert.match(text, /per loop \(mean ± std\. dev\. of 2 runs, 3 loops each\)/, text);
  });

  test('`%who` lists the names cells declared', async () => {
    await runOk(kernel(), "const whoNumber = 1;\nlet whoText = 'x';\nfunction whoFunction() { return 1 }\nconst whoTensor = tf.ones([2]);");
    const names = (await printed(kernel(), '%who')).split(/\s+/).filter((name) => name !== '');
    for (const name of ['whoNumber', 'whoText', 'whoFunction', 'whoTensor']) assert.ok(names.includes(name), `${name} missing: ${names.join(' ')}`);
  });

  test("`%who` does not list the kernel's own globals (tf, asTensor, device, display)", async () => {
    const names = (await printed(kernel(), '%who')).split(/\s+/).filter((name) => name !== '');
    for (const name of ['tf', 'asTensor', 'device', 'bestDevice', 'withDevice', 'display']) {
      assert.ok(!names.includes(name), `${name} listed: ${names.join(' ')}`);
    }
  });

  test('`%env NAME=value` sets a variable that `%env NAME` then prints, and cells see', async () => {
    await printed(kernel(), '%env TSGPU_DEVICES_TEST=hello-devices');
    assert.equal((await printed(kernel(), '%env TSGPU_DEVICES_TEST')).trim(), 'hello-devices');
    assert.equal(await valueOf(kernel(), "process.env['TSGPU_DEVICES_TEST']"), "'hello-devices'");
  });
});
