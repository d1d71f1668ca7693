// Ops tfjs-backend-webgpu runs on the host although the user asked for gpu:0: with every input under
// 1000 elements and still in a host array it computes the op on the CPU (WEBGPU_CPU_FORWARD) and
// keeps the result in a host array. Each cell looks itself at where tfjs put its tensors (the
// backend's tensorMap: a GPU buffer or a host array) and at the bytes gpu:0's buffer manager holds,
// and compares that with the report's op counts and live gpu:0 bytes, %memory and %gc.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hostArrayBytes, liveBytes, parseBytes, parseTextTable, printed, valueOf } from '../support/devices';
import { streamText } from '../support/exchange';
import type { Exchange } from '../support/kernel-client';
import { countOf, deviceOf, reportTableOf, runOk, tableRows, theReport, useReportKernel } from '../support/report';

/** Where tfjs put each tensor a cell printed (bytes in a GPU buffer, bytes in a host array), and what gpu:0's buffers grew by. */
interface Seen {
  device?: string;
  placed: Record<string, { gpu: number; host: number }>;
  gpuGrowth: number;
}

/**
 * `placed(t)`: bytes of t's data in a GPU buffer and in a host array, from gpu:0's tensorMap.
 * `gpuBytesUsed()`: bytes in gpu:0's buffers by tfjs's own count, once what it recorded is
 * submitted (which releases what it held for the queue: uniforms, intermediates).
 */
const SETUP = [
  '%device gpu:0',
  'type Entry = { values: { byteLength: number } | null; resource: { size: number } | null };',
  'const gpuBackend = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry["gpu:0"] as {',
  '  tensorMap: { get(dataId: object): Entry }; bufferManager: { numBytesUsed: number };',
  '  commandEncoder: unknown; endComputePassEncoder(): void; submitQueue(): void };',
  'const placed = (t: tf.Tensor) => { const e = gpuBackend.tensorMap.get(t.dataId); return { gpu: e.resource?.size ?? 0, host: e.resource == null ? e.values?.byteLength ?? 0 : 0 }; };',
  'const gpuBytesUsed = () => { if (gpuBackend.commandEncoder) { gpuBackend.endComputePassEncoder(); gpuBackend.submitQueue(); } return gpuBackend.bufferManager.numBytesUsed; };',
  '0',
].join('\n');

function seenIn(exchange: Exchange): Seen {
  const match = /seen (\{.*\})/.exec(streamText(exchange, 'stdout'));
  assert.ok(match !== null, `the cell printed nothing it saw: ${JSON.stringify(streamText(exchange, 'stdout'))}`);
  return JSON.parse(match[1]!) as Seen;
}

function sum(seen: Seen, where: 'gpu' | 'host'): number {
  return Object.values(seen.placed).reduce((total, entry) => total + entry[where], 0);
}

describe('inline report: ops tfjs runs on the host for gpu:0', () => {
  const kernel = useReportKernel();
  let addCell = 0;

  test('setup: gpu:0 current, a probe on its tensorMap', async () => {
    await runOk(kernel(), SETUP);
  });

  test('tf.add(tf.tensor1d([1, 2, 3, 4]), 1) on gpu:0: run on the host by tfjs, counted so, and its 32 B are host arrays, not gpu:0 memory', async () => {
    const memoryBefore = await printed(kernel(), '%memory');
    const exchange = await runOk(kernel(), [
      'const usedBefore1 = gpuBytesUsed();',
      'let a: tf.Tensor | null = tf.tensor1d([1, 2, 3, 4]);',
      'let u: tf.Tensor | null = tf.add(a, 1);',
      'console.log(`seen ${JSON.stringify({ device: u.device, placed: { a: placed(a), u: placed(u) }, gpuGrowth: gpuBytesUsed() - usedBefore1 })}`);',
    ].join('\n'));
    addCell = countOf(exchange);
    const seen = seenIn(exchange);
    // What tfjs did, seen independently of the kernel.
    assert.equal(seen.device, 'gpu:0', 'the result is a gpu:0 tensor: placement is unchanged');
    assert.deepEqual(seen.placed, { a: { gpu: 0, host: 16 }, u: { gpu: 0, host: 16 } }, 'tfjs keeps both in host arrays, no GPU buffer');
    assert.equal(seen.gpuGrowth, 0, "gpu:0's buffer manager holds nothing more");
    // What the report says.
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0');
    assert.equal(gpu.ops, 1, `one op asked of gpu:0: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.hostOps, 1, `and tfjs ran it on the host: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.liveBytes - gpu.liveBytesBefore, seen.gpuGrowth, `gpu:0 memory grew by what its buffers grew by: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.heldOnHostBytes, sum(seen, 'host'), `the host arrays tfjs keeps for gpu:0: ${JSON.stringify(gpu)}`);
    const [line = ''] = report.text.split('\n');
    assert.match(line, /gpu:0 \(software\) 1 ops \(1 run on the host by tfjs\), /, line);
    assert.match(line, /\| live gpu:0 0 B \(\+32 B in host arrays\)$/, line);
    const gpuRow = tableRows(reportTableOf(report.html) ?? '').find((cells) => /^gpu:0\b/.test(cells[0] ?? ''));
    assert.ok(gpuRow !== undefined && gpuRow[4] === '0 B' && gpuRow.includes('1 run on the host by tfjs; 32 B in host arrays'),
      `the HTML row: live memory 0 B, and what tfjs did on the host: ${JSON.stringify(gpuRow)}`);
    // %memory: live gpu:0 as its buffers, the host arrays apart.
    const memoryAfter = await printed(kernel(), '%memory');
    const [was, is] = [liveBytes(memoryBefore, 'gpu:0'), liveBytes(memoryAfter, 'gpu:0')];
    assert.equal(is.bytes - was.bytes, seen.gpuGrowth, `%memory's live gpu:0:\n${memoryBefore}\n${memoryAfter}`);
    const [hostWas, hostIs] = [hostArrayBytes(memoryBefore, 'gpu:0'), hostArrayBytes(memoryAfter, 'gpu:0')];
    assert.equal(hostIs.bytes - hostWas.bytes, sum(seen, 'host'), `%memory's host arrays of gpu:0:\n${memoryBefore}\n${memoryAfter}`);
  });

  test('a GPU op on that result: tfjs uploads it then, one untimed 16 B H2D credited to the add\'s line, and gpu:0 memory grows by what its buffers grew by', async () => {
    const exchange = await runOk(kernel(), [
      'const usedBefore2 = gpuBytesUsed();',
      'let m: tf.Tensor | null = tf.matMul(u!.reshape([1, 4]), u!.reshape([4, 1]));',
      'console.log(`seen ${JSON.stringify({ placed: { a: placed(a!), u: placed(u!), m: placed(m) }, gpuGrowth: gpuBytesUsed() - usedBefore2 })}`);',
    ].join('\n'));
    const seen = seenIn(exchange);
    assert.deepEqual(seen.placed, { a: { gpu: 0, host: 16 }, u: { gpu: 16, host: 0 }, m: { gpu: 4, host: 0 } }, 'u and m in GPU buffers, a still a host array');
    assert.equal(seen.gpuGrowth, 20, "gpu:0's buffer manager holds u's 16 B and m's 4 B more");
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0');
    assert.equal(gpu.hostOps, 0, `the matMul ran on gpu:0 (the reshapes are views, no work): ${JSON.stringify(gpu)}`);
    assert.equal(gpu.liveBytes - gpu.liveBytesBefore, seen.gpuGrowth, `gpu:0 memory grew by what its buffers grew by: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.heldOnHostBytes, seen.placed['a']!.host, `only a is left in a host array: ${JSON.stringify(gpu)}`);
    assert.deepEqual(report.meta.transfers.map(({ direction, bytes, untimed, cell, line }) => ({ direction, bytes, untimed, cell, line })),
      [{ direction: 'H2D', bytes: 16, untimed: true, cell: addCell, line: 3 }], 'u crossed to gpu:0 here, credited to the line that made it');
  });

  test("control: with WEBGPU_CPU_FORWARD off the same add runs on gpu:0, nothing is counted on the host, and both tensors' bytes are gpu:0 memory", async () => {
    const exchange = await runOk(kernel(), [
      "tf.env().set('WEBGPU_CPU_FORWARD', false);",
      'try {',
      '  const usedBefore3 = gpuBytesUsed();',
      '  const b = tf.tensor1d([1, 2, 3, 4]);',
      '  const w = tf.add(b, 1);',
      '  console.log(`seen ${JSON.stringify({ device: w.device, placed: { b: placed(b), w: placed(w) }, gpuGrowth: gpuBytesUsed() - usedBefore3 })}`);',
      '} finally {',
      "  tf.env().set('WEBGPU_CPU_FORWARD', true);",
      '}',
    ].join('\n'));
    const seen = seenIn(exchange);
    assert.deepEqual(seen.placed, { b: { gpu: 16, host: 0 }, w: { gpu: 16, host: 0 } }, 'both in GPU buffers');
    assert.equal(seen.gpuGrowth, 32);
    const report = theReport(exchange);
    const gpu = deviceOf(report, 'gpu:0');
    assert.deepEqual([gpu.ops, gpu.hostOps], [1, 0], `the add ran on gpu:0: ${JSON.stringify(gpu)}`);
    assert.equal(gpu.liveBytes - gpu.liveBytesBefore, seen.gpuGrowth, `gpu:0 memory grew by what its buffers grew by: ${JSON.stringify(gpu)}`);
    assert.doesNotMatch(report.text, /run on the host/, report.text);
  });

  test('%%profile: the add tfjs ran on the host is a row of its own, "gpu:0 (on the host)", with no GPU time', async () => {
    const report = theReport(await runOk(kernel(), '%%profile\nconst p = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4]));'));
    const rows = (report.meta.profile ?? []).filter((row) => row.op === 'Add');
    assert.deepEqual(rows.map(({ device, calls, gpuMs, bytesIn, bytesOut }) => ({ device, calls, gpuMs, bytesIn, bytesOut })),
      [{ device: 'gpu:0 (on the host)', calls: 1, gpuMs: null, bytesIn: 16, bytesOut: 8 }], JSON.stringify(report.meta.profile));
  });

  test("%gc: the gpu:0 bytes it frees are what gpu:0's buffers gave back, not the host arrays tfjs kept", async () => {
    // What earlier cells dropped is collected first; the drop and the collection are then one cell.
    await printed(kernel(), '%gc');
    await runOk(kernel(), 'let usedBeforeGc = gpuBytesUsed(); 0');
    const collection = await printed(kernel(), 'a = null; u = null; m = null;\n%gc');
    const gaveBack = Number(await valueOf(kernel(), 'usedBeforeGc - gpuBytesUsed()'));
    assert.equal(gaveBack, 20, `gpu:0's buffers gave back u's 16 B and m's 4 B (a was a host array):\n${collection}`);
    const freed = parseBytes(parseTextTable(collection)?.rows.find(({ cells }) => cells[0] === 'gpu:0')?.cells[2] ?? '');
    assert.ok(freed !== undefined, `%gc printed no gpu:0 row:\n${collection}`);
    assert.equal(freed.bytes, gaveBack, `%gc's gpu:0 bytes:\n${collection}`);
  });

  test('%placement: the adds tfjs ran on the host are listed as run on the host, the ones on gpu:0\'s buffers as on gpu:0', async () => {
    await runOk(kernel(), '%placement on');
    try {
      // Three adds of a host-array input (tfjs computes them on the CPU), two of a GPU buffer's.
      const exchange = await runOk(kernel(), [
        'const onGpu = tf.add(tf.ones([2048]), 1);',
        'const results = [1, 2, 3].map((k) => tf.add(tf.tensor1d([k, k]), 1)).concat([1, 2].map((k) => tf.add(onGpu, k)));',
        'const where = results.map((t) => placed(t));',
        'console.log(`seen ${JSON.stringify({ placed: Object.fromEntries(where.map((w, i) => [i, w])) })}`);',
      ].join('\n'));
      const seen = seenIn(exchange);
      const inHost = Object.values(seen.placed).filter((entry) => entry.host > 0 && entry.gpu === 0).length;
      const inGpu = Object.values(seen.placed).filter((entry) => entry.gpu > 0).length;
      // What tfjs did, seen in its tensorMap: 3 results in host arrays, 2 in GPU buffers (and onGpu itself, whose add ran on gpu:0).
      assert.deepEqual([inHost, inGpu], [3, 2], JSON.stringify(seen.placed));
      const stdout = streamText(exchange, 'stdout');
      const block = stdout.split('\n').filter((line) => /^ {2}Add\b/.test(line)).sort();
      assert.deepEqual(block, ['  Add ×3 on gpu:0', `  Add ×${inHost} on the host (run there by tfjs for gpu:0)`].sort(),
        `%placement lists each add where it ran (the ${inGpu} adds of onGpu and onGpu's own on gpu:0):\n${stdout}`);
      const gpu = deviceOf(theReport(exchange), 'gpu:0');
      assert.equal(gpu.hostOps, inHost, `the report line counts the same: ${JSON.stringify(gpu)}`);
    } finally {
      await runOk(kernel(), '%placement off');
    }
  });
});
