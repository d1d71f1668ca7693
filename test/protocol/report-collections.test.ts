// A garbage collection that held a move up is named as one: "garbage collection" in the report,
// `gc` in metadata.tsgpu, where it had been host busy, which the upload hint called "the host
// running other code, which this does not save" (moving the batch once saves the collections of
// the moves' own garbage, not of the cell's: the hint says so). The cells here force a full collection between
// their moves' calls and their awaits, and time it with their own clock around the call.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import type { MoveWait } from '../../kernel/device/device-control';
import { hintLines, runOk, theReport, useReportKernel } from '../support/report';

/** A full collection the cell can call (as `node --expose-gc` gives one), and enough live objects that it takes milliseconds. */
const FORCED_GC = "const gc = (() => { require('v8').setFlagsFromString('--expose_gc'); return require('vm').runInNewContext('gc') as () => void; })();\n"
  + "const kept = Array.from({ length: 400000 }, (_, i) => ({ i, s: 'item ' + i }));";

/** Times `gc()` by the cell's clock and prints "gc MS". */
const TIMED_GC = "const g0 = performance.now(); gc(); console.log('gc ' + (performance.now() - g0).toFixed(3));";

/** What the cell printed after `label ` by its own clock, in ms. */
function printedMs(stdout: string, label: string): number {
  const match = new RegExp(`${label} (\\d+(?:\\.\\d+)?)`).exec(stdout);
  assert.ok(match !== null, `the cell printed no '${label}' measurement: ${JSON.stringify(stdout)}`);
  return Number(match[1]);
}

/** "110 ms garbage collection" in the report's line, in ms; 0 when the line names none. */
function lineGcMs(line: string): number {
  const match = /([\d.]+) (µs|ms|s) garbage collection/.exec(line);
  if (match === null) return 0;
  return Number(match[1]) * ({ µs: 1e-3, ms: 1, s: 1e3 } as Record<string, number>)[match[2]!]!;
}

const partMs = (waits: readonly Pick<MoveWait, 'cause' | 'ms'>[], cause: MoveWait['cause']): number => waits.filter((wait) => wait.cause === cause).reduce((sum, wait) => sum + wait.ms, 0);

describe('inline report: garbage collections that held moves up', () => {
  const kernel = useReportKernel();

  test('setup: gpu:0 set up (a first move), so set-up is no part of what follows', async () => {
    await runOk(kernel(), "await (await tf.ones([4]).to('gpu:0')).cpu(); await tf.ones([4]).to('gpu:0');\n0");
  });

  test('20 uploads awaited together after a full collection: the line names it, as long as the cell\'s clock, and it is not host busy', async () => {
    const exchange = await runOk(kernel(), `{ ${FORCED_GC}
const xs = Array.from({ length: 20 }, (_, i) => tf.fill([1024], i));
const c0 = performance.now();
const moving = xs.map((x) => x.to('gpu:0'));
${TIMED_GC}
await Promise.all(moving);
console.log('window ' + (performance.now() - c0).toFixed(3)); }`);
    const stdout = streamText(exchange, 'stdout');
    const clock = printedMs(stdout, 'gc');
    const window = printedMs(stdout, 'window');
    const report = theReport(exchange);
    const line = report.text.split('\n')[0]!;
    const shown = lineGcMs(line);
    // The cell's clock holds the call into the collection too; V8's pause is the most of it.
    assert.ok(clock >= 5, `the forced collection took ${clock} ms: too short to tell (${line})`);
    // At least the forced one; other collections may fall in the moves' time too (CI once met
    // 16 ms more, during the calls), but never more than the time from the calls to the await's end.
    assert.ok(shown >= 0.8 * clock, `the line shows ${shown} ms of garbage collection; the cell's clock gave ${clock} ms for the forced one: ${line}`);
    assert.ok(shown <= window + 1, `the line shows ${shown} ms of garbage collection, more than the ${window} ms from the calls to the await's end: ${line}`);
    // Every move waited through the collection: each names it, and none leaves it in host busy.
    for (const move of report.meta.transfers.filter((one) => one.direction === 'H2D')) {
      assert.ok(partMs(move.waits, 'gc') >= 0.8 * clock, `a move shows ${partMs(move.waits, 'gc').toFixed(1)} ms of gc of the ${clock} ms: ${JSON.stringify(move.waits)}`);
      // Before, host busy held all of it (0.95–1.0 of the clock); what is left is the cell's other
      // code, and its thread taken away on a loaded machine (27 ms once, with 126 ms of collection).
      assert.ok(partMs(move.waits, 'host-busy') < 0.5 * clock, `a move still shows ${partMs(move.waits, 'host-busy').toFixed(1)} ms of host busy: ${JSON.stringify(move.waits)}`);
    }
    const hint = hintLines(report.text).find((one) => one.includes('host→GPU moves'));
    assert.ok(hint !== undefined, `no upload hint: ${report.text}`);
    // The cell's own garbage is collected however the data moves: not among what moving the batch once surely saves.
    assert.match(hint, /; [\d.]+ (?:ms|s) more waiting for [^)]*garbage collection, which this saves only as far as the moves caused it\)/, `the upload hint names the collection apart: ${hint}`);
    assert.doesNotMatch(hint, /garbage collection[^;]*, which this does not save/, `the hint says moving the batch once saves none of the collection: ${hint}`);
  });

  test('a read whose cell collects before awaiting it: its wait names the collection', async () => {
    const exchange = await runOk(kernel(), `{ ${FORCED_GC}
const y = await tf.fill([1024], 2).to('gpu:0');
const r0 = performance.now();
const reading = y.data();
${TIMED_GC}
await reading;
console.log('window ' + (performance.now() - r0).toFixed(3)); }`);
    const stdout = streamText(exchange, 'stdout');
    const clock = printedMs(stdout, 'gc');
    const window = printedMs(stdout, 'window');
    const report = theReport(exchange);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined, `no read in ${report.text}`);
    const shown = partMs(read.waits, 'gc');
    // At least the forced one; never more than the read's time by the cell's clock.
    assert.ok(shown >= 0.8 * clock && shown <= window + 1, `the read shows ${shown.toFixed(1)} ms of gc; the cell's clock gave ${clock} ms for the forced one, ${window} ms for the read: ${JSON.stringify(read.waits)}`);
    assert.ok(shown + read.copyMs <= read.ms + 1e-6, 'gc is part of the read\'s time');
  });

  test('a collection while a read waited for its GPU work held nothing up: not named; the blocking code after the work is host busy', async () => {
    await runOk(kernel(), "const ma = await tf.randomNormal([1024, 1024]).to('gpu:0'); const mb = await tf.randomNormal([1024, 1024]).to('gpu:0'); await tf.matMul(ma, mb).data();\n0");
    // The cell collects at once (the GPU still multiplying), then blocks its thread without
    // allocating (Atomics.wait) past the GPU's end: only that last part held the read up.
    const exchange = await runOk(kernel(), `{ ${FORCED_GC}
const flag = new Int32Array(new SharedArrayBuffer(4));
const c = tf.matMul(ma, mb);
const t0 = performance.now();
const reading = c.data();
${TIMED_GC}
Atomics.wait(flag, 0, 0, 500);
console.log('until ' + (performance.now() - t0).toFixed(3));
await reading; }`);
    const stdout = streamText(exchange, 'stdout');
    const clock = printedMs(stdout, 'gc');
    const until = printedMs(stdout, 'until');
    const report = theReport(exchange);
    const read = report.meta.transfers.find((move) => move.direction === 'D2H');
    assert.ok(read !== undefined, `no read in ${report.text}`);
    const gpuWork = partMs(read.waits, 'gpu-work');
    assert.ok(gpuWork > clock, `the GPU's work (${gpuWork.toFixed(1)} ms) must outlast the ${clock} ms collection for this test to tell: ${report.text}`);
    // Whatever of the collection fell outside the GPU's work, at most, could have held the read up.
    const shown = partMs(read.waits, 'gc');
    assert.ok(shown <= Math.max(0, clock - gpuWork) + 1, `the read shows ${shown.toFixed(1)} ms of gc, though its GPU work (${gpuWork.toFixed(1)} ms) covered the ${clock} ms collection: ${JSON.stringify(read.waits)}`);
    // The blocking code past the GPU's end (and its queue latency) held it up: host busy, as before.
    const blockedAfter = until - gpuWork - partMs(read.waits, 'gpu-latency');
    assert.ok(partMs(read.waits, 'host-busy') >= 0.8 * blockedAfter, `host busy ${partMs(read.waits, 'host-busy').toFixed(1)} ms, blocked ${blockedAfter.toFixed(1)} ms after the GPU's work: ${JSON.stringify(read.waits)}`);
  });
});
