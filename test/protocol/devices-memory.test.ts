// %memory, and the notebook habit it exists for: re-running `x = tf.randomNormal(…)` must not leak
// the old x (freed once nothing reaches it and the kernel idles), while what a closure, tf.keep()
// or a variable still holds stays.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  deviceLine, hostArrayBytes, liveBytes, printed, runOk, useDeviceKernel, valueOf,
} from '../support/devices';

/** float32 [256, 256]. */
const ONE_TENSOR = 256 * 256 * 4;
/** The kernel collects once it has idled 200 ms (within 10% of its time): poll this often, this many times. */
const IDLE_WAIT_MS = 500;
const IDLE_WAITS = 20;

/**
 * What gpu:0's tensors hold: its buffers (live) and the host arrays tfjs keeps for it. A tensor made
 * from host values on gpu:0 (randomNormal) stays a host array until a GPU op first uses it.
 */
function gpuHeld(memory: string): { bytes: number; error: number } {
  const [live, host] = [liveBytes(memory, 'gpu:0'), hostArrayBytes(memory, 'gpu:0')];
  return { bytes: live.bytes + host.bytes, error: live.error + host.error };
}

describe('device memory', () => {
  const kernel = useDeviceKernel();

  test('%memory shows a table of live bytes, buffers and pooled memory with rows for cpu and gpu:0', async () => {
    await runOk(kernel(), "const memoryProbe = await tf.ones([4]).to('gpu:0');");
    const table = await printed(kernel(), '%memory');
    const header = table.split('\n').find((line) => /\blive\b/i.test(line)) ?? '';
    assert.match(header, /\bdevice\b/i, table);
    assert.match(header, /\bbuffers\b/i, table);
    assert.match(header, /\bpooled\b/i, table);
    assert.ok(deviceLine(table, 'cpu') !== undefined, `no cpu row:\n${table}`);
    assert.ok(deviceLine(table, 'gpu:0') !== undefined, `no gpu:0 row:\n${table}`);
  });

  test("moving a 64 KiB tensor to gpu:0 adds 64 KiB to gpu:0's live bytes and takes it off cpu's", async () => {
    const size = 16384 * 4;
    await runOk(kernel(), 'const sixtyFour = tf.zeros([16384]);');
    const before = await printed(kernel(), '%memory');
    await runOk(kernel(), "await sixtyFour.to('gpu:0');");
    const after = await printed(kernel(), '%memory');
    for (const [device, sign] of [['gpu:0', 1], ['cpu', -1]] as const) {
      const was = liveBytes(before, device);
      const is = liveBytes(after, device);
      assert.ok(Math.abs(is.bytes - was.bytes - sign * size) <= was.error + is.error,
        `${device}: live ${was.bytes} B -> ${is.bytes} B, expected ${sign > 0 ? '+' : '-'}${size} B\n${before}\n${after}`);
    }
  });

  test('re-running `x = tf.randomNormal([256, 256])` 20 times on gpu:0 keeps its memory (buffers and host arrays) flat once the kernel idles', async (t) => {
    try {
      await printed(kernel(), '%device gpu:0');
      assert.equal(await valueOf(kernel(), 'let x = tf.randomNormal([256, 256]);\nx.device'), "'gpu:0'");
      await printed(kernel(), '%gc');
      const before = await printed(kernel(), '%memory');
      for (let run = 0; run < 20; run++) await runOk(kernel(), 'x = tf.randomNormal([256, 256]); 0');
      const was = gpuHeld(before);
      const unused = hostArrayBytes(before, 'gpu:0');
      assert.ok(unused.bytes >= ONE_TENSOR - unused.error, `x, not used by a GPU op yet, is not counted in gpu:0's host arrays:\n${before}`);
      let after = '';
      let waits = 0;
      for (; waits < IDLE_WAITS; waits++) {
        await sleep(IDLE_WAIT_MS);
        after = await printed(kernel(), '%memory');
        if (gpuHeld(after).bytes - was.bytes <= ONE_TENSOR + was.error) break;
      }
      t.diagnostic(`flat again after ${waits + 1} idle waits of ${IDLE_WAIT_MS} ms`);
      const is = gpuHeld(after);
      assert.ok(Math.abs(is.bytes - was.bytes) <= ONE_TENSOR + was.error + is.error,
        `gpu:0's tensors grew from ${was.bytes} to ${is.bytes} B over 20 runs (one tensor is ${ONE_TENSOR} B):\n${before}\n${after}`);
    } finally {
      await printed(kernel(), '%device cpu');
    }
  });

  // Each run of %timeit raced the cell's interrupt with Promise.race against one long-lived
  // promise, which kept every run's result: 811 MiB of dropped matMul results on gpu:0 until the
  // cell ended, past the 256 MiB at which the kernel collects at once. tfjs's own count of tensor
  // bytes (tf.memory()), read in the same cell right after, is the measure.
  test('%timeit of an op whose results nobody keeps: the results are freed as it goes, under memory pressure', async (t) => {
    const loops = 150;
    const repeats = 4;
    const resultBytes = 512 * 512 * 4;
    await runOk(kernel(), "const timedX = await tf.randomNormal([512, 4]).to('gpu:0');\nlet bytesBefore = 0;");
    const output = await printed(kernel(), [
      'bytesBefore = tf.memory().numBytes;',
      `%timeit -n ${loops} -r ${repeats} tf.tidy(() => timedX.matMul(timedX, false, true))`,
      'console.log(`grew ${tf.memory().numBytes - bytesBefore}`);',
    ].join('\n'));
    const grew = Number(/grew (-?\d+)/.exec(output)?.[1]);
    const made = loops * repeats * resultBytes;
    t.diagnostic(`${made} B of results made; tf.memory() grew ${grew} B: ${output}`);
    assert.ok(Number.isFinite(grew), output);
    assert.ok(grew < made / 3, `tfjs still counts ${(grew / 2 ** 20).toFixed(1)} MiB of the ${(made / 2 ** 20).toFixed(0)} MiB of results no code keeps`);
  });

  test('the old value of a rebound name stays while a closure holds it, and is freed once nothing does', async () => {
    await runOk(kernel(), 'let rebound = tf.tensor([1, 2, 3]);\nlet peekOld = ((t) => () => t)(rebound);\nconst oldRef = new WeakRef(rebound);');
    await runOk(kernel(), 'rebound = tf.tensor([4, 5, 6]);');
    await printed(kernel(), '%gc');
    assert.equal(await valueOf(kernel(), '[peekOld().isDisposed, Array.from(await peekOld().data()), rebound.isDisposed]'), '[ false, [ 1, 2, 3 ], false ]');
    await runOk(kernel(), 'peekOld = () => rebound; 0');
    await printed(kernel(), '%gc');
    assert.equal(await valueOf(kernel(), 'oldRef.deref() === undefined'), 'true', 'nothing holds the old value, yet it was not collected');
  });

  test('a tensor kept with tf.keep() is never disposed while a closure holds it, even once no name refers to it', async () => {
    await runOk(kernel(), 'let keptName = tf.keep(tf.tensor([1, 2, 3]));\nconst peekKept = ((t) => () => t)(keptName);');
    await runOk(kernel(), 'keptName = tf.tensor([4, 5, 6]);');
    assert.equal(await valueOf(kernel(), '[peekKept().isDisposed, Array.from(await peekKept().data())]'), '[ false, [ 1, 2, 3 ] ]');
  });

  test('a variable is never disposed while a closure holds it, even once no name refers to it', async () => {
    await runOk(kernel(), 'let variableName = tf.variable(tf.tensor([1, 2, 3]));\nconst peekVariable = ((t) => () => t)(variableName);');
    await runOk(kernel(), 'variableName = tf.variable(tf.tensor([4, 5, 6]));');
    assert.equal(await valueOf(kernel(), '[peekVariable().isDisposed, Array.from(await peekVariable().data())]'), '[ false, [ 1, 2, 3 ] ]');
  });
});
