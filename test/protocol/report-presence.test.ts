// When the inline device report appears: exactly one display_data after a cell that ran ops, moved
// tensors, or made or disposed them (after the cell's own output, before idle), and none after a
// cell that did not, even where the GC freed unreached tensors while it ran.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iopubKinds, resultText } from '../support/exchange';
import { valueOf } from '../support/devices';
import { assertNoReport, countOf, deviceOf, reportOf, runOk, theReport, useReportKernel } from '../support/report';

describe('inline report: one per cell that touched tensors, none otherwise', () => {
  const kernel = useReportKernel();

  test('plain cells show no report: 1+1, console.log, a function, %devices, %who, %lsmagic, %report', async () => {
    for (const code of ['1+1', "console.log('x')", 'function plainHelper(n: number) { return n * 2 }\nplainHelper(3)',
      '%devices', '%who', '%lsmagic', '%report']) {
      assertNoReport(await runOk(kernel(), code), code);
    }
  });

  test('a cell that moves a tensor to gpu:0 shows exactly one report, after its result and right before idle', async () => {
    const exchange = await runOk(kernel(), "const moved = tf.ones([256]);\nawait moved.to('gpu:0');\nmoved.device");
    assert.equal(resultText(exchange), "'gpu:0'");
    const report = theReport(exchange);
    const kinds = iopubKinds(exchange);
    assert.ok(kinds.indexOf('execute_result') < kinds.lastIndexOf('display_data'), `report after the result: ${kinds.join(', ')}`);
    assert.deepEqual(kinds.slice(-2), ['display_data', 'status:idle'], `the report is the last message before idle: ${kinds.join(', ')}`);
    assert.equal(report.meta.cell, countOf(exchange));
  });

  test('a cell that moves a tensor and then throws shows the error first and the report after it', async () => {
    const exchange = await kernel().execute("const thrown = tf.ones([8]);\nawait thrown.to('gpu:0');\nthrow new Error('after the move')");
    const kinds = iopubKinds(exchange);
    assert.ok(kinds.includes('error'), `the cell failed: ${kinds.join(', ')}`);
    assert.ok(kinds.indexOf('error') < kinds.lastIndexOf('display_data'), `the report comes after the error: ${kinds.join(', ')}`);
    assert.deepEqual(kinds.slice(-2), ['display_data', 'status:idle'], `the report is the last message before idle: ${kinds.join(', ')}`);
  });

  test('a cell that only runs an op on the cpu shows one report', async () => {
    const report = await reportOf(kernel(), 'tf.ones([4]).add(1)');
    assert.ok(report.meta.devices.some((use) => use.device === 'cpu' && use.ops >= 1),
      `the cpu ran the Add: ${JSON.stringify(report.meta.devices)}`);
  });

  test('a cell that only reads a GPU tensor back (await x.data()) shows one report', async () => {
    const report = await reportOf(kernel(), 'await moved.data();\nmoved.size');
    assert.ok(report.meta.transfers.some((transfer) => transfer.direction === 'D2H'),
      `the readback is in the report: ${JSON.stringify(report.meta.transfers)}`);
  });

  test('a cell that prints and then moves shows one report after the printed text', async () => {
    const exchange = await runOk(kernel(), "console.log('before the move');\nconst movedToo = tf.ones([8]);\nawait movedToo.to('gpu:0');");
    theReport(exchange);
    const kinds = iopubKinds(exchange);
    assert.ok(kinds.indexOf('stream') < kinds.lastIndexOf('display_data'), `report after the stream: ${kinds.join(', ')}`);
  });

  test('plain cells after tensor cells still show no report', async () => {
    for (const code of ['2 * 21', "console.log('still plain')", '%devices', '%memory']) {
      assertNoReport(await runOk(kernel(), code), code);
    }
  });

  test('a cell that only makes tensors, with no op (tf.randomNormal, tf.ones), shows one report; one that only disposes them shows one too, with their bytes gone', async () => {
    // tfjs makes these from host values with no kernel: no op runs, yet the cell touched tensors.
    // tf.randomNormal is an op that runs no kernel: alone in its cell, it shows a report too.
    theReport(await runOk(kernel(), '%%device gpu:0\nconst madeOnly = tf.randomNormal([256, 256]);'));
    const made = theReport(await runOk(kernel(), '%%device gpu:0\nconst madeOnlyToo = tf.ones([64]);'));
    const heldAfterMaking = deviceOf(made, 'gpu:0').heldOnHostBytes;
    assert.ok(heldAfterMaking >= 256 * 256 * 4 + 64 * 4, `gpu:0 holds the new tensors in host arrays: ${JSON.stringify(made.meta.devices)}`);
    assert.match(made.text.split('\n')[0]!, /gpu:0 [^,]*\(\+[\d.]+ (?:KiB|MiB) in host arrays\)/, made.text);
    const disposed = theReport(await runOk(kernel(), 'madeOnly.dispose(); tf.dispose(madeOnlyToo);'));
    assert.equal(heldAfterMaking - deviceOf(disposed, 'gpu:0').heldOnHostBytes, 256 * 256 * 4 + 64 * 4,
      `the report after disposing shows their bytes gone: ${JSON.stringify(disposed.meta.devices)}`);
  });

  test('a cell that only disposes a variable, or a model (its variables), shows one report with their bytes gone', async () => {
    // Made in a tidy: the variable alone holds its data (it shares the tensor it was made from).
    const before = theReport(await runOk(kernel(), 'const disposedVariable = tf.tidy(() => tf.variable(tf.ones([1000])));\n'
      + 'const disposedModel = tf.sequential(); disposedModel.add(tf.layers.dense({ inputShape: [10], units: 20 }));\n0'));
    const afterVariable = theReport(await runOk(kernel(), 'disposedVariable.dispose()'));
    assert.equal(deviceOf(before, 'cpu').liveBytes - deviceOf(afterVariable, 'cpu').liveBytes, 1000 * 4, JSON.stringify(afterVariable.meta.devices));
    const afterModel = theReport(await runOk(kernel(), 'disposedModel.dispose(); 0'));
    // A dense layer of 10 inputs and 20 units: a 10×20 kernel and 20 biases, float32.
    assert.equal(deviceOf(afterVariable, 'cpu').liveBytes - deviceOf(afterModel, 'cpu').liveBytes, (10 * 20 + 20) * 4, JSON.stringify(afterModel.meta.devices));
  });

  test('a cell that only moves a tensor to the host from the copy a read kept (no byte crosses, no move recorded) shows one report, the bytes moved from gpu:0 to cpu', async () => {
    // A bool read back keeps its values on the host: its move to cpu takes them from there.
    await runOk(kernel(), "const readBools = await tf.tensor([1, 0, 1, 1], [4], 'int32').to('gpu:0');\nconst readMask = readBools.greater(0);\n(await readMask.data()).length");
    const report = theReport(await runOk(kernel(), "await readMask.to('cpu');\nreadMask.device"));
    assert.deepEqual(report.meta.transfers, [], 'no byte crossed: no move is recorded');
    // A bool is 4 bytes on the GPU, 1 on the host.
    assert.equal(deviceOf(report, 'gpu:0').liveBytesBefore - deviceOf(report, 'gpu:0').liveBytes, 4 * 4, JSON.stringify(report.meta.devices));
    assert.equal(deviceOf(report, 'cpu').liveBytes - deviceOf(report, 'cpu').liveBytesBefore, 4, JSON.stringify(report.meta.devices));
  });

  test('a clone of a tensor read back moves to the host from the kept values too: no byte crosses, and its values are the original\'s', async () => {
    await runOk(kernel(), "const readOriginal = (await tf.tensor([1, -2, 3.5, 4]).to('gpu:0')).mul(2);\n(await readOriginal.data()).length");
    const exchange = await runOk(kernel(), "const readCopy = readOriginal.clone();\nawait readCopy.to('cpu');\nArray.from(await readCopy.data())");
    assert.equal(resultText(exchange), '[ 2, -4, 7, 8 ]');
    const report = theReport(exchange);
    assert.deepEqual(report.meta.transfers.filter((move) => move.direction === 'D2H'), [], report.text);
    assert.equal(await valueOf(kernel(), 'readOriginal.device'), "'gpu:0'");
  });

  test('x.cpu() twice with a clone made between them downloads x once: one D2H of its bytes, live memory moved once, and none left after both are disposed', async () => {
    const report = theReport(await runOk(kernel(), [
      "const raced = await tf.tensor1d([1, 2, 3, 4]).to('gpu:0');",
      'const racedFirst = raced.cpu();',
      'const racedClone = raced.clone();',
      'await Promise.all([racedFirst, raced.cpu()]);',
      '0',
    ].join('\n')));
    assert.equal(report.meta.transfers.filter((move) => move.direction === 'D2H').length, 1, report.text);
    // The clone made while the move was on its way shares the buffer that moved: one buffer of 16 B on cpu.
    assert.equal(deviceOf(report, 'cpu').liveBytes - deviceOf(report, 'cpu').liveBytesBefore, 16, JSON.stringify(report.meta.devices));
    const cpuBefore = deviceOf(report, 'cpu').liveBytes;
    const gpuAfter = deviceOf(report, 'gpu:0').liveBytes;
    const disposed = theReport(await runOk(kernel(), 'raced.dispose(); racedClone.dispose();\n0'));
    assert.equal(cpuBefore - deviceOf(disposed, 'cpu').liveBytes, 16, JSON.stringify(disposed.meta.devices));
    assert.equal(deviceOf(disposed, 'gpu:0').liveBytes, gpuAfter, JSON.stringify(disposed.meta.devices));
  });

  test('a cell during which the GC frees tensors nothing reaches any more shows no report: the cell did not touch them', async () => {
    assert.equal(await valueOf(kernel(), 'globalThis.droppedLater = tf.ones([1000]); 0'), '0');
    // The cell drops the last reference, collects, and gives the finalizers a turn: tf.memory() is the test's own count.
    const exchange = await runOk(kernel(), [
      'const tensorsBefore = tf.memory().numTensors;',
      'delete (globalThis as { droppedLater?: unknown }).droppedLater;',
      "(require('vm').runInNewContext((require('v8').setFlagsFromString('--expose_gc'), 'gc')) as () => void)();",
      'await new Promise((resolve) => setTimeout(resolve, 200));',
      'tensorsBefore - tf.memory().numTensors',
    ].join('\n'));
    assert.ok(Number(resultText(exchange)) >= 1, `the GC freed the dropped tensor during the cell (${resultText(exchange)} freed): the test needs it to tell`);
    assertNoReport(exchange, 'a cell that only dropped a reference');
  });

  test('running the same tensor cell again shows one report again, numbered with the new count', async () => {
    const code = 'tf.ones([4]).mul(3)';
    const first = await runOk(kernel(), code);
    const second = await runOk(kernel(), code);
    assert.equal(theReport(first).meta.cell, countOf(first));
    assert.equal(theReport(second).meta.cell, countOf(second));
    assert.equal(countOf(second), countOf(first) + 1);
  });
});
