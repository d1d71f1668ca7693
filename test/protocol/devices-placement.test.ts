// Where tensors are made (%device, %%device, withDevice) and where ops run: where their inputs
// live. Mixed host and GPU inputs follow %device_policy: auto moves the host input (recorded as
// implicit), warn also says so once per call site, strict refuses in PyTorch's words.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { resultText, streamText } from '../support/exchange';
import {
  assertTransfer, countOf, errorOf, linesOf, onlyMove, printed, runOk, useDeviceKernel, valueOf,
} from '../support/devices';
import type { KernelClient } from '../support/kernel-client';

const PYTORCH_WORDS = 'Expected all tensors to be on the same device, but found at least two devices, gpu:0 and cpu!';

/** Runs `body` under a policy, then puts auto back whatever happened. */
async function underPolicy(kernel: KernelClient, policy: 'warn' | 'strict', body: () => Promise<void>): Promise<void> {
  assert.match(await printed(kernel, `%device_policy ${policy}`), new RegExp(`\\b${policy}\\b`));
  try {
    await body();
  } finally {
    await printed(kernel, '%device_policy auto');
  }
}

describe('tensor placement', () => {
  const kernel = useDeviceKernel();

  before(async () => {
    await runOk(kernel(), "const onGpu = await tf.ones([4]).to('gpu:0');\nconst onHost = tf.ones([4]);");
  });

  test('after `%device gpu:0`, new tensors (factories, tf.tensor, asTensor) are made on gpu:0', async () => {
    try {
      assert.match(await printed(kernel(), '%device gpu:0'), /^device gpu:0 \(software GPU/m);
      assert.equal(await valueOf(kernel(), '[tf.ones([2]).device, tf.zeros([2]).device, tf.tensor([1, 2]).device, asTensor([1, 2]).device, tf.randomNormal([2]).device]'),
        "[ 'gpu:0', 'gpu:0', 'gpu:0', 'gpu:0', 'gpu:0' ]");
      assert.match(await printed(kernel(), '%device'), /\bgpu:0\b/);
    } finally {
      await printed(kernel(), '%device cpu');
    }
    assert.equal(await valueOf(kernel(), 'tf.ones([2]).device'), "'cpu'");
  });

  test('an op on host tensors runs on the host even while the current device is gpu:0', async () => {
    await runOk(kernel(), 'const hostLeft = tf.tensor([1, 2]);\nconst hostRight = tf.tensor([3, 4]);');
    try {
      await printed(kernel(), '%device gpu:0');
      assert.equal(await valueOf(kernel(), 'hostLeft.add(hostRight).device'), "'cpu'");
    } finally {
      await printed(kernel(), '%device cpu');
    }
  });

  test('`%%device gpu:0` makes tensors on gpu:0 for its own cell only', async () => {
    assert.equal(await valueOf(kernel(), '%%device gpu:0\ntf.ones([2]).device'), "'gpu:0'");
    assert.equal(await valueOf(kernel(), 'tf.ones([2]).device'), "'cpu'");
    assert.match(await printed(kernel(), '%device'), /\bcpu\b/);
  });

  test("withDevice('gpu:0', …) makes tensors on gpu:0 inside and restores the device after", async () => {
    assert.equal(await valueOf(kernel(), "const inside = await withDevice('gpu:0', () => tf.ones([2]).device);\n[inside, tf.ones([2]).device]"),
      "[ 'gpu:0', 'cpu' ]");
  });

  test('withDevice restores the device even when its function throws', async () => {
    const error = await errorOf(kernel(), "await withDevice('gpu:0', () => { throw new Error('inside withDevice') })");
    assert.equal(error.evalue, 'inside withDevice');
    assert.equal(await valueOf(kernel(), 'tf.ones([2]).device'), "'cpu'");
  });

  test("a model built under withDevice('gpu:0') has its weights on gpu:0", async () => {
    const code = [
      "const builtThere = await withDevice('gpu:0', () => {",
      '  const m = tf.sequential();',
      '  m.add(tf.layers.dense({ inputShape: [2], units: 3 }));',
      '  return m;',
      '});',
      'builtThere.weights.map((w) => w.read().device)',
    ].join('\n');
    assert.equal(await valueOf(kernel(), code), "[ 'gpu:0', 'gpu:0' ]");
  });

  test('policy auto (the default) moves a host input to gpu:0 and %transfers records it as implicit, with op, cell and line',
    async () => {
      assert.match(await printed(kernel(), '%device_policy'), /\bauto\b/);
      const exchange = await runOk(kernel(), 'const autoNote = 1;\nconst mixed = onGpu.add(tf.ones([4]));\nmixed.device');
      assert.equal(resultText(exchange), "'gpu:0'");
      assert.equal(streamText(exchange, 'stderr'), '', 'auto moves without a warning');
      const transfers = await printed(kernel(), '%transfers');
      assertTransfer(onlyMove(transfers), { direction: 'H2D', bytes: 16, cause: 'implicit', op: 'Add', cell: countOf(exchange), line: 2 }, transfers);
      assert.equal(await valueOf(kernel(), 'Array.from(await mixed.data())'), '[ 2, 2, 2, 2 ]');
    });

  test('policy warn prints exactly one warning line for a call site run 5 times in a loop, naming cell, line and op', async () => {
    await underPolicy(kernel(), 'warn', async () => {
      const code = [
        'let warnedSum = 0;',
        'for (let i = 0; i < 5; i++) {',
        '  const r = onGpu.add(tf.ones([4]));',
        '  warnedSum += (await r.data())[0]!;',
        '}',
        'warnedSum',
      ].join('\n');
      const exchange = await runOk(kernel(), code);
      assert.equal(resultText(exchange), '10', 'each add ran on moved input');
      const warnings = linesOf(streamText(exchange, 'stderr'));
      assert.equal(warnings.length, 1, `one warning line expected:\n${warnings.join('\n')}`);
      const [warning = ''] = warnings;
      assert.match(warning, /\bAdd\b/, warning);
      assert.match(warning, new RegExp(`\\bcell ${countOf(exchange)}\\b`), warning);
      assert.match(warning, /\bline 3\b/, warning);
    });
  });

  test('policy warn warns once for each of two call sites in one cell', async () => {
    await underPolicy(kernel(), 'warn', async () => {
      const code = [
        'for (let i = 0; i < 5; i++) {',
        '  onGpu.add(tf.ones([4]));',
        '  onGpu.sub(tf.ones([4]));',
        '}',
      ].join('\n');
      const exchange = await runOk(kernel(), code);
      const warnings = linesOf(streamText(exchange, 'stderr'));
      assert.equal(warnings.length, 2, `two warning lines expected:\n${warnings.join('\n')}`);
      assert.ok(warnings.some((line) => /\bAdd\b/.test(line) && /\bline 2\b/.test(line)), warnings.join('\n'));
      assert.ok(warnings.some((line) => /\bSub\b/.test(line) && /\bline 3\b/.test(line)), warnings.join('\n'));
    });
  });

  test('policy strict refuses a host input to a gpu:0 op: DeviceError in PyTorch\'s words, with the fix', async () => {
    await underPolicy(kernel(), 'strict', async () => {
      const error = await errorOf(kernel(), 'onGpu.add(onHost)');
      assert.equal(error.ename, 'DeviceError');
      assert.ok(error.evalue.startsWith(PYTORCH_WORDS), error.evalue);
      assert.ok(error.evalue.includes("(Add: input 'b' is on cpu but the op runs on gpu:0.)"), error.evalue);
      // The line names the input: onHost, not a placeholder (with x on gpu:0, `x.add(z)` told the user to move x).
      assert.ok(error.evalue.includes("move it first with await onHost.to('gpu:0')"), error.evalue);
    });
  });

  test('policy warn names the input the line passed (`w.mul(hostTwo)`: hostTwo), and a placeholder where the input is no name', async () => {
    await underPolicy(kernel(), 'warn', async () => {
      await runOk(kernel(), 'const hostTwo = tf.ones([4]);');
      const named = linesOf(streamText(await runOk(kernel(), 'const w = onGpu;\nconst product = w.mul(hostTwo);'), 'stderr'));
      assert.ok(named.some((line) => line.includes("Move it once yourself with await hostTwo.to('gpu:0')")), named.join('\n'));
      const unnamed = linesOf(streamText(await runOk(kernel(), 'const quotient = onGpu.div(tf.ones([4]));'), 'stderr'));
      assert.ok(unnamed.some((line) => line.includes("Move it once yourself with await <input 'b'>.to('gpu:0')")), unnamed.join('\n'));
    });
  });

  test('policy strict inside a helper function: the fix names no parameter of the helper (it does not exist where the cell calls it)', async () => {
    await runOk(kernel(), 'function mulBy(p: tf.Tensor, q: tf.Tensor) { return p.mul(q); }');
    await underPolicy(kernel(), 'strict', async () => {
      const error = await errorOf(kernel(), 'mulBy(onGpu, onHost)');
      assert.equal(error.ename, 'DeviceError');
      assert.ok(error.evalue.includes("move it first with await <input 'b'>.to('gpu:0')"), error.evalue);
    });
  });

  test('policy strict: once the host input is moved with `await x.to(\'gpu:0\')`, the op runs', async () => {
    await underPolicy(kernel(), 'strict', async () => {
      await runOk(kernel(), 'const strictHost = tf.ones([4]);');
      assert.equal((await errorOf(kernel(), 'onGpu.add(strictHost)')).ename, 'DeviceError');
      assert.equal(await valueOf(kernel(), "await strictHost.to('gpu:0');\nconst strictSum = onGpu.add(strictHost);\nstrictSum.device"), "'gpu:0'");
      assert.equal(await valueOf(kernel(), 'Array.from(await strictSum.data())'), '[ 2, 2, 2, 2 ]');
    });
  });

  test('policy strict still allows a 0-d host scalar (tf.scalar(2)) with a gpu:0 tensor', async () => {
    await underPolicy(kernel(), 'strict', async () => {
      assert.equal(await valueOf(kernel(), 'const doubled = onGpu.mul(tf.scalar(2));\n[doubled.device, Array.from(await doubled.data())]'),
        "[ 'gpu:0', [ 2, 2, 2, 2 ] ]");
    });
  });

  test('after a mixed-device error the next cell runs and earlier variables survive', async () => {
    await runOk(kernel(), "const survivor = 41;\nconst survivorTensor = await tf.tensor([5, 6]).to('gpu:0');");
    await underPolicy(kernel(), 'strict', async () => {
      assert.equal((await errorOf(kernel(), 'survivorTensor.add(tf.ones([2]))')).ename, 'DeviceError');
      assert.equal(await valueOf(kernel(), '[survivor + 1, survivorTensor.device, Array.from(await survivorTensor.data())]'),
        "[ 42, 'gpu:0', [ 5, 6 ] ]");
    });
  });

  test('after a synchronous GPU read error the next cell runs and earlier variables survive', async () => {
    await runOk(kernel(), "const survivor2 = 'still here';\nconst unreadSurvivor = (await tf.tensor([1, 2]).to('gpu:0')).add(1);");
    assert.equal((await errorOf(kernel(), 'unreadSurvivor.dataSync()')).ename, 'DeviceError');
    assert.equal(await valueOf(kernel(), '[survivor2, Array.from(await unreadSurvivor.data())]'), "[ 'still here', [ 2, 3 ] ]");
  });
});
