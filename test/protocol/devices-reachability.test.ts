// What user code can reach is never freed; what it cannot reach is freed once the kernel idles.
// Every way JavaScript can hold a value keeps a tensor alive and computing across rebinding its
// name, idle time and a forced collection; once every reference is dropped, live memory on cpu and
// gpu:0 returns to where it was, by tfjs's own count as well as %memory's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { liveBytes, parseBytes, parseTextTable, printed, runCell, runOk, useDeviceKernel, valueOf } from '../support/devices';

/** Idle waits until the kernel's own collection (200 ms after a cell, within 10% of its time) has run. */
const IDLE_WAIT_MS = 500;
const IDLE_WAITS = 30;

interface Holding {
  name: string;
  /** Declares the holder of `source` (a tensor named `src<i>` made before it). */
  hold: string;
  /** An expression for the held tensor. */
  reach: string;
}

const HOLDINGS: Holding[] = [
  { name: 'a closure', hold: 'const viaClosure = ((held) => () => held)(src0);', reach: 'viaClosure()' },
  { name: 'a globalThis property', hold: '(globalThis as any).viaGlobal = src1;', reach: '(globalThis as any).viaGlobal' },
  {
    name: 'a class #private field',
    hold: 'class PrivateBox { #held; constructor(held: any) { this.#held = held; } get() { return this.#held; } }\nconst viaPrivate = new PrivateBox(src2);',
    reach: 'viaPrivate.get()',
  },
  { name: 'a Map value', hold: "const viaMap = new Map([['k', src3]]);", reach: "viaMap.get('k')" },
  { name: 'a Set member', hold: 'const viaSet = new Set([src4]);', reach: '[...viaSet][0]' },
  { name: 'a WeakMap value', hold: 'const weakKey = {};\nconst viaWeakMap = new WeakMap([[weakKey, src5]]);', reach: 'viaWeakMap.get(weakKey)' },
  {
    name: 'an object nested 50 levels deep',
    hold: 'let viaNested: any = { held: src6 };\nfor (let level = 0; level < 50; level++) viaNested = { inner: viaNested };',
    reach: '(() => { let at = viaNested; while (at.inner) at = at.inner; return at.held; })()',
  },
  { name: "a promise's resolved value", hold: 'const viaPromise = Promise.resolve(src7);', reach: '(await viaPromise)' },
  {
    name: "a model's custom layer",
    hold: 'class Scale extends tf.layers.Layer {\n  static className = "Scale";\n  constructor(readonly factor: any) { super({ inputShape: [4] }); }\n'
      + '  override call(inputs: any) { return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, this.factor); }\n}\n'
      + 'const viaModel = tf.sequential({ layers: [new Scale(src8)] });',
    reach: '(viaModel.layers[0] as any).factor',
  },
];

describe('tensors user code can reach', () => {
  const kernel = useDeviceKernel();

  test('every way of holding a tensor keeps it alive and computing across rebinding, idle time and %gc', async (t) => {
    await printed(kernel(), '%device gpu:0');
    try {
      // src<i> holds i + 1 in each of its 4 elements, on gpu:0; then each is held one way.
      const make = HOLDINGS.map((_, index) => `let src${index} = tf.fill([4], ${index + 1}).add(0);`).join('\n');
      await runOk(kernel(), `${make}\n0`);
      for (const holding of HOLDINGS) await runOk(kernel(), `${holding.hold}\n0`);
      // The names that made them now hold other tensors: only the holders reach the originals.
      await runOk(kernel(), `${HOLDINGS.map((_, index) => `src${index} = tf.zeros([4]);`).join('\n')}\n0`);
      await sleep(IDLE_WAIT_MS * 2);
      const collection = await printed(kernel(), '%gc');
      t.diagnostic(`%gc after rebinding:\n${collection}`);
      for (const [index, holding] of HOLDINGS.entries()) {
        const value = await valueOf(kernel(), `await (async () => {\n  const held: any = ${holding.reach};\n  return [held.isDisposed, held.device, Array.from(await held.add(1).data())];\n})()`);
        const expected = index + 2;
        assert.equal(value, `[ false, 'gpu:0', [ ${expected}, ${expected}, ${expected}, ${expected} ] ]`, `the tensor held by ${holding.name} was lost`);
      }
      assert.equal(await valueOf(kernel(), 'Array.from(await (viaModel.predict(tf.ones([1, 4])) as any).data())'), '[ 9, 9, 9, 9 ]',
        "the custom layer's tensor no longer computes through its model");
    } finally {
      await printed(kernel(), '%device cpu');
    }
  });

  test('an array of 200,000 tensors keeps every one of them across rebinding and %gc', async (t) => {
    const started = performance.now();
    await runOk(kernel(), 'let manyTensors = Array.from({ length: 200000 }, (_, i) => tf.scalar(i));\nconst viaArray = manyTensors; 0');
    t.diagnostic(`making and handing over 200,000 tensors took ${(performance.now() - started).toFixed(0)} ms (cell round trip)`);
    await runOk(kernel(), 'manyTensors = []; 0');
    await printed(kernel(), '%gc');
    assert.equal(await valueOf(kernel(), 'viaArray.filter((x) => x.isDisposed).length'), '0');
    assert.equal(await valueOf(kernel(), 'viaArray[123456].add(1).arraySync()'), '123457');
    assert.equal(await valueOf(kernel(), 'tf.addN(viaArray.slice(199990)).arraySync()'), String(Array.from({ length: 10 }, (_, i) => 199990 + i).reduce((a, b) => a + b)));
  });

  test('once every reference is dropped, live memory on cpu and gpu:0 returns to its baseline after the kernel idles', async (t) => {
    await printed(kernel(), '%gc');
    const baselineTensors = await valueOf(kernel(), 'tf.memory().numTensors');
    const first = await printed(kernel(), '%memory');
    await runOk(kernel(), [
      'let dropCpu = tf.randomNormal([256, 256]);',
      "let dropGpu = await tf.randomNormal([256, 256]).to('gpu:0');",
      'let dropClosure = ((held) => () => held)(dropGpu.mul(2));',
      '(globalThis as any).dropGlobal = dropCpu.add(1);',
      "let dropMap = new Map([['a', dropGpu.square()]]);",
      'let dropList = Array.from({ length: 100 }, () => tf.ones([64, 64]));',
      '0',
    ].join('\n'));
    const held = await printed(kernel(), '%memory');
    const [heldGpu, firstGpu] = [liveBytes(held, 'gpu:0'), liveBytes(first, 'gpu:0')];
    assert.ok(heldGpu.bytes - firstGpu.bytes >= 3 * 256 * 256 * 4 - heldGpu.error - firstGpu.error,
      `the held tensors do not show on gpu:0:\n${first}\n${held}`);
    await runOk(kernel(), [
      'dropCpu = null as any; dropGpu = null as any; dropClosure = null as any;',
      'delete (globalThis as any).dropGlobal; dropMap.clear(); dropList = [];',
      '0',
    ].join('\n'));
    const dropped = performance.now();
    let last = '';
    for (let wait = 0; wait < IDLE_WAITS; wait++) {
      await sleep(IDLE_WAIT_MS);
      // A magic-only cell: it adds nothing to collect.
      last = await printed(kernel(), '%memory');
      if (['cpu', 'gpu:0'].every((device) => liveBytes(last, device).bytes <= liveBytes(first, device).bytes + liveBytes(first, device).error)) break;
    }
    t.diagnostic(`live memory back at its baseline ${(performance.now() - dropped).toFixed(0)} ms after the references were dropped (polled every ${IDLE_WAIT_MS} ms)`);
    for (const device of ['cpu', 'gpu:0']) {
      const was = liveBytes(first, device);
      const is = liveBytes(last, device);
      assert.ok(is.bytes <= was.bytes + was.error + is.error, `${device} live bytes ${was.bytes} -> ${is.bytes} after every reference was dropped:\n${first}\n${last}`);
    }
    assert.equal(await valueOf(kernel(), 'tf.memory().numTensors'), baselineTensors, "tfjs's own tensor count did not return to its baseline");
  });
});

describe('%gc and %memory', () => {
  const kernel = useDeviceKernel();

  test("%memory shows what awaits the collector, and %gc frees it now, saying what tfjs's own count says it freed", async () => {
    await printed(kernel(), '%gc');
    await runOk(kernel(), 'let awaitingOne = tf.fill([65536], 2).add(0);\n0');
    await runOk(kernel(), 'awaitingOne = null as any;\nconst bytesBefore = tf.memory().numBytes; 0');
    const memory = await printed(kernel(), '%memory');
    const table = parseTextTable(memory);
    const column = table?.header.findIndex((title) => /awaiting/i.test(title)) ?? -1;
    assert.ok(table && column >= 0, `%memory has no "awaiting GC" column:\n${memory}`);
    const awaiting = parseBytes(table.rows.find(({ cells }) => cells[0] === 'cpu')?.cells[column] ?? '');
    assert.ok(awaiting && awaiting.bytes >= 65536 * 4 - awaiting.error, `the dropped 256 KiB tensor does not show as awaiting GC:\n${memory}`);
    const collection = await printed(kernel(), '%gc');
    const freedByTfjs = Number(await valueOf(kernel(), 'bytesBefore - tf.memory().numBytes'));
    assert.ok(freedByTfjs >= 65536 * 4, `tfjs counts only ${freedByTfjs} B freed by %gc:\n${collection}`);
    const freedRow = parseTextTable(collection)?.rows.find(({ cells }) => cells[0] === 'cpu');
    const freed = parseBytes(freedRow?.cells[2] ?? '');
    assert.ok(freed !== undefined, `%gc printed no cpu row:\n${collection}`);
    assert.ok(Math.abs(freed.bytes - freedByTfjs) <= freed.error, `%gc says ${freed.bytes} B freed on cpu, tfjs's count ${freedByTfjs} B:\n${collection}`);
  });

  test("views of one buffer: %memory's awaiting GC never exceeds live, and %gc's freed bytes are what the GPU gave back", async () => {
    const used = "(tf.engine().registry['gpu:0'] as any).bufferManager.numBytesUsed";
    await runOk(kernel(), "await tf.ones([1]).to('gpu:0'); 0");
    await printed(kernel(), '%gc');
    await runOk(kernel(), "let base = await tf.randomNormal([1024, 1024]).to('gpu:0');\nlet views = [base.reshape([1048576]), base.reshape([512, 2048]), base.clone()];\n0");
    await runOk(kernel(), 'base = null as any;\nviews = [];\n0');
    const memory = await printed(kernel(), '%memory');
    const table = parseTextTable(memory)!;
    const row = table.rows.find(({ cells }) => cells[0] === 'gpu:0')!;
    const awaiting = parseBytes(row.cells[table.header.findIndex((title) => /awaiting/i.test(title))] ?? '')!;
    const live = liveBytes(memory, 'gpu:0');
    assert.ok(awaiting.bytes <= live.bytes + live.error + awaiting.error, `awaiting GC ${awaiting.bytes} B is more than live ${live.bytes} B:\n${memory}`);
    const before = Number(await valueOf(kernel(), used));
    const collection = await printed(kernel(), '%gc');
    const gaveBack = before - Number(await valueOf(kernel(), used));
    const freed = parseBytes(parseTextTable(collection)?.rows.find(({ cells }) => cells[0] === 'gpu:0')?.cells[2] ?? '');
    assert.ok(freed !== undefined, `%gc printed no gpu:0 row:\n${collection}`);
    assert.ok(gaveBack >= 1024 * 1024 * 4, `the GPU gave back only ${gaveBack} B: the test proves nothing`);
    assert.ok(Math.abs(freed.bytes - gaveBack) <= freed.error, `%gc says ${freed.bytes} B freed on gpu:0; its buffer manager gave back ${gaveBack} B:\n${collection}`);
  });

  test("%gc gives the GPU back its pooled buffers (the buffer manager's own count) and names the variables it leaves", async () => {
    const manager = "(tf.engine().registry['gpu:0'] as any).bufferManager";
    await runOk(kernel(), "let pooledOnce = await tf.randomNormal([333, 333]).to('gpu:0');\nlet weights = tf.variable(tf.ones([4]));\npooledOnce.dispose(); 0");
    const pooledBefore = Number(await valueOf(kernel(), `${manager}.numBytesAllocated - ${manager}.numBytesUsed`));
    assert.ok(pooledBefore >= 333 * 333 * 4, `nothing pooled on gpu:0 (${pooledBefore} B): the test proves nothing`);
    const collection = await printed(kernel(), '%gc');
    assert.match(collection, /gpu:0: gave back [\d.]+ [KM]iB of pooled buffers/);
    assert.match(collection, /1 variable \(model weights, optimizer state: 16 B\) are freed only by dispose\(\)/);
    assert.equal(await valueOf(kernel(), `${manager}.numBytesAllocated - ${manager}.numBytesUsed`), '0', 'pooled buffers are left on gpu:0');
    assert.equal(await valueOf(kernel(), "Array.from(await (await tf.tensor([3]).to('gpu:0')).add(1).data())"), '[ 4 ]');
  });

  test('%gc pressure shows and sets the growth that collects at once, and refuses a size it cannot read', async () => {
    assert.match(await printed(kernel(), '%gc pressure'), /gpu:0\s+256\.0 MiB/);
    assert.match(await printed(kernel(), '%gc pressure gpu:0 64MiB'), /gpu:0\s+64\.0 MiB/);
    assert.match(await printed(kernel(), '%gc pressure cuda'), /^device.*\n-+.*\ngpu:0\s+64\.0 MiB\n$/);
    assert.match(await printed(kernel(), '%gc pressure gpu:0 off'), /gpu:0\s+off/);
    const refused = await runCell(kernel(), '%gc pressure gpu:0 lots');
    assert.match(JSON.stringify(refused.iopub), /takes a size such as 256MiB/);
    assert.equal(await valueOf(kernel(), '1 + 1'), '2', 'the kernel stopped answering after a refused %gc');
  });
});

describe('memory pressure', () => {
  const kernel = useDeviceKernel();

  test('a loop on gpu:0 that never disposes stays near the pressure threshold instead of growing with every step', async (t) => {
    await printed(kernel(), '%gc pressure gpu:0 32MiB');
    // 100 steps of 2 MiB each: 200 MiB made and dropped. tfjs's own byte count is the measurement.
    const peak = Number(await valueOf(kernel(), [
      '%device gpu:0',
      'const startBytes = tf.memory().numBytes;',
      'let peakGrowth = 0;',
      'for (let step = 0; step < 100; step++) {',
      '  const batch = tf.randomNormal([512, 1024]).mul(1.5);',
      '  await batch.sum().data();',
      '  peakGrowth = Math.max(peakGrowth, tf.memory().numBytes - startBytes);',
      '}',
      'peakGrowth',
    ].join('\n')));
    await printed(kernel(), '%device cpu');
    t.diagnostic(`peak growth of tfjs's byte count over 200 MiB made and dropped: ${(peak / 2 ** 20).toFixed(1)} MiB (threshold 32 MiB)`);
    assert.ok(peak > 0, 'the loop made nothing: the test proves nothing');
    assert.ok(peak < 64 * 2 ** 20, `live bytes grew by ${(peak / 2 ** 20).toFixed(1)} MiB in a loop that keeps nothing (threshold 32 MiB)`);
  });

  test('a tensor dropped after a pressure collection handed it over is freed once the kernel idles', async () => {
    await printed(kernel(), '%gc pressure gpu:0 16MiB');
    await printed(kernel(), '%gc');
    const first = await printed(kernel(), '%memory');
    // 20 MiB on gpu:0: over the threshold, so it is handed over (and collected around) as it is made.
    await runOk(kernel(), "%device gpu:0\nlet overThreshold = tf.randomNormal([1024, 5 * 1024]).add(0);\noverThreshold = null as any;\n0");
    await printed(kernel(), '%device cpu');
    let last = '';
    for (let wait = 0; wait < IDLE_WAITS; wait++) {
      await sleep(IDLE_WAIT_MS);
      last = await printed(kernel(), '%memory');
      if (liveBytes(last, 'gpu:0').bytes < liveBytes(first, 'gpu:0').bytes + 2 ** 20) break;
    }
    assert.ok(liveBytes(last, 'gpu:0').bytes < liveBytes(first, 'gpu:0').bytes + 2 ** 20, `the dropped 20 MiB tensor was never freed:\n${first}\n${last}`);
  });
});

describe('after an interrupt', () => {
  const kernel = useDeviceKernel();

  test('a loop interrupted inside tf.tidy leaves nothing held: later tensors are freed as before', async () => {
    await runOk(kernel(), 'tf.ones([1]); 0');
    // The interrupt must land inside the tidy: the cell says when its loop runs.
    const running = kernel().startExecute("tf.tidy(() => {\n  let t = tf.ones([64]);\n  console.log('looping');\n  while (true) t = t.add(1);\n});", {}, { timeoutMs: 60_000 });
    await running.iopubMessage('stream');
    await sleep(300);
    await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
    await running.done();
    await printed(kernel(), '%gc');
    const first = await printed(kernel(), '%memory');
    await runOk(kernel(), 'let afterInterrupt = tf.randomNormal([512, 512]);\nafterInterrupt = tf.randomNormal([512, 512]);\nafterInterrupt = tf.zeros([1]); 0');
    const collection = await printed(kernel(), '%gc');
    const last = await printed(kernel(), '%memory');
    const [was, is] = [liveBytes(first, 'cpu'), liveBytes(last, 'cpu')];
    assert.ok(is.bytes - was.bytes < 512 * 512 * 4, `the two dropped 1 MiB tensors are still live after %gc:\n${first}\n${collection}\n${last}`);
  });
});
