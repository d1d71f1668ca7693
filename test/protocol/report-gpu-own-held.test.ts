// A cell whose read waited for its own GPU work, then recorded more that tfjs held until the cell
// ended: the work that ran during the cell is the cell's GPU time, and the next cell counts as
// "queued by" it only the held work, which ran after the cell. The clock read every timestamp
// behind the held work, so the cell showed GPU 0.0 µs while its read had waited for its passes,
// and the next cell counted those passes as left running by it.
// The cell counts, independently of the kernel, the dispatches of gpu:0's command buffers it
// submitted and those tfjs still holds when it ends, and takes the time itself: the held work is
// submitted after its last statement, and has run once the next cell's read of it returns, so the
// GPU time the next cell counts as queued by it fits between the two.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { countOf, deviceOf, runOk, theReport, useReportKernel } from '../support/report';

/**
 * `ranDispatches()`: dispatches in the command buffers submitted to gpu:0 since the last call;
 * `heldDispatches()`: dispatches tfjs has recorded and not submitted (tfjs records many in one pass).
 */
const SETUP = [
  '%device gpu:0',
  'type OwnPass = { dispatchWorkgroups(...sizes: number[]): void };',
  'type OwnEncoder = { beginComputePass(descriptor?: object): OwnPass; finish(descriptor?: object): object };',
  'const ownGpu = (tf.engine() as unknown as { registry: Record<string, { commandEncoder: unknown; device: { createCommandEncoder(descriptor?: object): OwnEncoder; queue: { submit(buffers: object[]): void } } }> }).registry["gpu:0"]!;',
  'const passesIn = new WeakMap<object, number>();',
  'const makeOwnEncoder = ownGpu.device.createCommandEncoder.bind(ownGpu.device);',
  'ownGpu.device.createCommandEncoder = (descriptor?: object) => {',
  '  const encoder = makeOwnEncoder(descriptor);',
  '  passesIn.set(encoder, 0);',
  '  const begin = encoder.beginComputePass.bind(encoder);',
  '  encoder.beginComputePass = (passDescriptor?: object) => {',
  '    const pass = begin(passDescriptor);',
  '    const dispatch = pass.dispatchWorkgroups.bind(pass);',
  '    pass.dispatchWorkgroups = (...sizes: number[]) => { passesIn.set(encoder, passesIn.get(encoder)! + 1); dispatch(...sizes); };',
  '    return pass;',
  '  };',
  '  const finish = encoder.finish.bind(encoder);',
  '  encoder.finish = (finishDescriptor?: object) => { const buffer = finish(finishDescriptor); passesIn.set(buffer, passesIn.get(encoder)!); return buffer; };',
  '  return encoder;',
  '};',
  'let ranCount = 0;',
  'const submitOwn = ownGpu.device.queue.submit.bind(ownGpu.device.queue);',
  'ownGpu.device.queue.submit = (buffers: object[]) => { for (const buffer of buffers) ranCount += passesIn.get(buffer) ?? 0; submitOwn(buffers); };',
  'const ranDispatches = () => { const count = ranCount; ranCount = 0; return count; };',
  'const heldDispatches = () => (ownGpu.commandEncoder ? passesIn.get(ownGpu.commandEncoder as object) ?? 0 : 0);',
  'const wide = await tf.randomNormal([2048, 2048]).to("gpu:0");',
  'await wide.add(0).slice([0, 0], [1, 1]).data();',
].join('\n');

describe('inline report: a cell\'s own GPU work that ran before the work tfjs held', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 warmed up, its passes counted', async () => {
    await runOk(kernel(), SETUP);
  });

  for (const round of [1, 2]) {
    test(`round ${round}: sixteen adds read in the cell, four held: the sixteen are the cell's GPU time, the next cell's "queued by" is the four`, async (t) => {
      await runOk(kernel(), 'ranDispatches();');
      const exchange = await runOk(kernel(), [
        'let r = wide;',
        'for (let i = 0; i < 16; i++) r = r.add(1);',
        'await r.data();',
        `let held${round} = wide;`,
        `for (let i = 0; i < 4; i++) held${round} = held${round}.add(2);`,
        'console.log(`seen ${JSON.stringify({ ran: ranDispatches(), held: heldDispatches() })}`);',
        `const ended${round} = performance.now();`,
      ].join('\n'));
      const seen = JSON.parse(/seen (\{.*\})/.exec(streamText(exchange, 'stdout'))![1]!) as { ran: number; held: number };
      // The cell's own count: sixteen adds went to the GPU and ran (their values were read), four are held.
      assert.ok(seen.ran >= 16 && seen.held === 4, JSON.stringify(seen));
      const report = theReport(exchange);
      const cell = countOf(exchange);
      const gpu = deviceOf(report, 'gpu:0').gpu;
      assert.ok(gpu !== null, report.text);
      const own = gpu.ms - gpu.earlierCellsMs;
      const read = report.meta.transfers.find((move) => move.direction === 'D2H');
      const ownWait = (read?.waits ?? []).filter((wait) => wait.cause === 'gpu-work' && wait.earlierCells.length === 0).reduce((sum, wait) => sum + wait.ms, 0);
      const nextExchange = await runOk(kernel(), `await held${round}.slice([0, 0], [1, 1]).data();\nconsole.log(\`window \${performance.now() - ended${round}}\`);`);
      const window = Number(/window ([\d.]+)/.exec(streamText(nextExchange, 'stdout'))![1]);
      const next = theReport(nextExchange);
      const after = deviceOf(next, 'gpu:0').gpu;
      // During the next cell, and before it began (between the cells): named apart, counted together here.
      const queuedBy = after === null ? 0 : (after.earlierCells.includes(cell) ? after.earlierCellsMs : 0) + (after.ranBeforeCells.includes(cell) ? after.ranBeforeMs : 0);
      t.diagnostic(`cell ${cell}: ${JSON.stringify(seen)}; own GPU ${own.toFixed(1)} ms, its read's own GPU wait ${ownWait.toFixed(1)} ms, heldBack ${String(gpu.heldBack)}; `
        + `next: ${queuedBy.toFixed(1)} ms queued by it, in a window of ${window.toFixed(1)} ms; ${report.text.split('\n')[0]} || ${next.text.split('\n')[0]}`);
      // The read waited for the cell's own adds, and they ran on the GPU in the cell: their time is the cell's.
      assert.ok(own > 0 && own >= ownWait / 2,
        `the read waited ${ownWait.toFixed(1)} ms for the cell's own GPU work, and the report shows ${own.toFixed(1)} ms of GPU time of the cell's own:\n${report.text}`);
      // What the next cell counts as queued by this one ran after this cell's last statement and
      // before the next cell's read returned (the GPU's clock is the host's on lavapipe; 2 ms for another's offset).
      assert.ok(queuedBy <= window + 2,
        `the next cell counts ${queuedBy.toFixed(1)} ms as queued by cell ${cell}, but only ${window.toFixed(1)} ms passed from that cell's last statement to the end of the read:\n${report.text}\n${next.text}`);
    });
  }
});
