// Intermediates no name ever held (`x = tf.randomNormal([64, 64]).add(1)`: the randomNormal
// result) are freed once the garbage collector finds them unreachable; what a closure holds, what
// tf.keep() kept, and data a dropped view shares with a named tensor stay.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { liveBytes, printed, runOk, useDeviceKernel, valueOf } from '../support/devices';

/** float32 [64, 64]: what the soak cell leaked per run before intermediates were freed. */
const SOAK_TENSOR = 64 * 64 * 4;
const SOAK_RUNS = 50;
/** How long, and how often, to let the kernel idle before its full GC has freed the soak's intermediates. */
const IDLE_WAIT_MS = 500;
const IDLE_WAITS = 20;

/**
 * A full collection from a cell, so these tests need not wait for one; the soak test relies on the
 * kernel's own (run once it idles). Finalizers run as tasks after it, before the next cell.
 */
const FULL_GC = "import gcV8 from 'node:v8';\nimport gcVm from 'node:vm';\n"
  + "gcV8.setFlagsFromString('--expose-gc');\nconst fullGc = gcVm.runInNewContext('gc') as () => void;\n"
  + "gcV8.setFlagsFromString('--no-expose-gc');";

describe('intermediate tensors', () => {
  const kernel = useDeviceKernel();

  before(async () => {
    await runOk(kernel(), FULL_GC);
  });

  /** Collects, then tells whether the object behind a WeakRef named `ref` is gone. */
  async function collected(ref: string): Promise<boolean> {
    await runOk(kernel(), 'fullGc(); 0');
    return await valueOf(kernel(), `${ref}.deref() === undefined`) === 'true';
  }

  test(`re-running \`soak = tf.randomNormal([64, 64]).add(1)\` ${SOAK_RUNS} times on gpu:0 leaves live memory flat once the kernel idles`, async (t) => {
    try {
      await printed(kernel(), '%device gpu:0');
      assert.equal(await valueOf(kernel(), 'let soak = tf.randomNormal([64, 64]).add(1);\nsoak.device'), "'gpu:0'");
      await runOk(kernel(), 'fullGc(); 0');
      const first = await printed(kernel(), '%memory');
      for (let run = 0; run < SOAK_RUNS; run++) await runOk(kernel(), 'soak = tf.randomNormal([64, 64]).add(1); 0');
      const was = liveBytes(first, 'gpu:0');
      const grownBy = async (): Promise<{ grown: number; memory: string }> => {
        const memory = await printed(kernel(), '%memory');
        const is = liveBytes(memory, 'gpu:0');
        return { grown: Math.round(is.bytes - was.bytes - was.error - is.error), memory };
      };
      // The kernel frees intermediates with a full GC once it has been idle a moment: give it some.
      let last = await grownBy();
      t.diagnostic(`right after the runs gpu:0 live bytes had grown by ${last.grown} B (a leak is ${SOAK_TENSOR} B a run)`);
      let waits = 0;
      for (; waits < IDLE_WAITS && last.grown > SOAK_TENSOR; waits++) {
        await sleep(IDLE_WAIT_MS);
        last = await grownBy();
      }
      t.diagnostic(`after ${waits} idle waits of ${IDLE_WAIT_MS} ms gpu:0 live bytes had grown by ${last.grown} B`);
      assert.ok(last.grown <= SOAK_TENSOR,
        `gpu:0 live bytes grew by ${last.grown} B over ${SOAK_RUNS} runs and stayed so:\n${first}\n${last.memory}`);
    } finally {
      await printed(kernel(), '%device cpu');
    }
  });

  test('an unnamed intermediate is freed once collected: its bytes leave %memory', async () => {
    await runOk(kernel(), 'fullGc(); 0');
    const first = await printed(kernel(), '%memory');
    await runOk(kernel(), 'const gone = new WeakRef(tf.fill([262144], 3));\nconst total = tf.fill([4], 1).sum(); 0');
    assert.ok(await collected('gone'), 'the intermediate was never collected: the test proves nothing');
    const last = await printed(kernel(), '%memory');
    const was = liveBytes(first, 'cpu');
    const is = liveBytes(last, 'cpu');
    assert.ok(is.bytes - was.bytes < 262144 * 4 - was.error - is.error,
      `the collected 1 MiB intermediate still counts on cpu: ${was.bytes} -> ${is.bytes}\n${first}\n${last}`);
  });

  test('a tensor only a closure holds survives collection and still computes', async () => {
    await runOk(kernel(), 'const scaleBy = (() => {\n  const w = tf.tensor([2, 3]);\n  return (x: ReturnType<typeof tf.ones>) => x.mul(w);\n})(); 0');
    await runOk(kernel(), 'fullGc(); 0');
    await runOk(kernel(), 'fullGc(); 0');
    assert.equal(await valueOf(kernel(), 'Array.from(await scaleBy(tf.ones([2])).data())'), '[ 2, 3 ]');
  });

  test('a tensor kept with tf.keep() outlives its tidy while reachable, and its data goes once it is collected', async () => {
    await runOk(kernel(), 'fullGc(); 0');
    const first = await printed(kernel(), '%memory');
    await runOk(kernel(), 'let keptOut = tf.tidy(() => tf.keep(tf.fill([262144], 7)));\nconst keptRef = new WeakRef(keptOut); 0');
    await runOk(kernel(), 'fullGc(); 0');
    assert.equal(await valueOf(kernel(), '[keptOut.isDisposed, (await keptOut.data())[262143]]'), '[ false, 7 ]');
    await runOk(kernel(), 'keptOut = null as any; 0');
    assert.ok(await collected('keptRef'), 'the kept tensor was never collected: the test proves nothing');
    const last = await printed(kernel(), '%memory');
    const was = liveBytes(first, 'cpu');
    const is = liveBytes(last, 'cpu');
    assert.ok(is.bytes - was.bytes < 262144 * 4 - was.error - is.error,
      `the collected kept 1 MiB tensor still counts on cpu: ${was.bytes} -> ${is.bytes}\n${first}\n${last}`);
  });

  test('a dropped reshape of a named tensor leaves the named tensor its data', async () => {
    await runOk(kernel(), 'const shared = tf.tensor([1, 2, 3, 4]);\nconst viewRef = new WeakRef(shared.reshape([2, 2])); 0');
    assert.ok(await collected('viewRef'), 'the view was never collected: the test proves nothing');
    assert.equal(await valueOf(kernel(), 'Array.from(await shared.data())'), '[ 1, 2, 3, 4 ]');
  });

  test('a view the user disposed after its cell is not disposed again when collected', async () => {
    // Its dataId is shared under a reference count: a second dispose would free the named tensor's data.
    await runOk(kernel(), 'const sharedToo = tf.tensor([5, 6, 7, 8]);\nlet disposeView: (() => void) | null = null;\n'
      + 'const ownViewRef = (() => {\n  const view = sharedToo.reshape([2, 2]);\n  disposeView = () => view.dispose();\n  return new WeakRef(view);\n})(); 0');
    await runOk(kernel(), 'disposeView!();\ndisposeView = null; 0');
    assert.ok(await collected('ownViewRef'), 'the view was never collected: the test proves nothing');
    assert.equal(await valueOf(kernel(), 'Array.from(await sharedToo.data())'), '[ 5, 6, 7, 8 ]');
  });

  test('tf.tidy still disposes what it made and returns its result intact', async () => {
    assert.equal(await valueOf(kernel(), 'const before = tf.memory().numTensors;\n'
      + 'const tidied = tf.tidy(() => tf.ones([3]).add(1).mul(2));\n[tf.memory().numTensors - before, Array.from(await tidied.data())]'),
    '[ 1, [ 4, 4, 4 ] ]');
    await runOk(kernel(), 'fullGc(); 0');
    assert.equal(await valueOf(kernel(), 'Array.from(await tidied.data())'), '[ 4, 4, 4 ]');
  });
});
