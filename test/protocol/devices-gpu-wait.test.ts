// While a cell waits for the GPU, the kernel's thread sleeps instead of polling Dawn in a busy loop
// (on a software GPU that loop takes the core the GPU's own threads need). Checked with the
// operating system's count of the thread's CPU time, read by the cell from /proc/thread-self/stat
// around an await of queued GPU work, against the wait's own length.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { GPU_HANDLE, printedNumber } from '../support/gpu-cell';
import { REPORT_TIMEOUT_MS, runOk } from '../support/report';

/**
 * Of a long wait, the share the waiting thread may spend on the CPU. Measured on lavapipe: 9–11%
 * polling with sleeps on a quiet machine, 11–20% in 16 clean-clone CI runs on 2 busy cores (each
 * poll costs more while the GPU's threads take both; one run failed at 20.0%, 340 ms in 1699 ms);
 * 36% spinning on a machine at load 5 (the spin gets what share the scheduler gives it: near 100%
 * on a quiet one).
 */
const MAX_CPU_SHARE = 0.25;

describe('waiting for GPU work', () => {
  const kernel = useKernel({ readyTimeoutMs: REPORT_TIMEOUT_MS });

  test(`a readback waiting ≥ 200 ms on queued matMuls keeps the cell's thread on the CPU under ${MAX_CPU_SHARE * 100}% of the wait`, async (t) => {
    const exchange = await runOk(kernel(), [
      '%device gpu:0',
      'import { readFileSync } from "node:fs";',
      // utime + stime of this thread, in clock ticks (fields 14 and 15, after the parenthesised name).
      'const threadTicks = () => { const fields = readFileSync("/proc/thread-self/stat", "utf8").split(") ")[1]!.split(" "); return Number(fields[11]) + Number(fields[12]); };',
      'const a = tf.randomNormal([1024, 1024]);',
      'await a.data();',
      'let c = a;',
      'for (let i = 0; i < 3; i++) c = tf.matMul(c, a);',
      'const corner = c.slice([0, 0], [1, 1]);',
      GPU_HANDLE,
      'flushGpu();',
      'const ticks0 = threadTicks();',
      'const t0 = performance.now();',
      'await corner.data();',
      'const waitedMs = performance.now() - t0;',
      // Clock ticks are 10 ms on Linux (sysconf(_SC_CLK_TCK) = 100).
      'console.log(`waited ${waitedMs.toFixed(1)} thread-cpu ${((threadTicks() - ticks0) * 10).toFixed(1)}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const waited = printedNumber(stdout, 'waited');
    const cpu = printedNumber(stdout, 'thread-cpu');
    assert.ok(waited >= 200, `the cell must wait at least 200 ms for the GPU to test this; it waited ${waited} ms`);
    t.diagnostic(`waited ${waited.toFixed(1)} ms, the thread's CPU ${cpu} ms`);
    assert.ok(cpu <= MAX_CPU_SHARE * waited, `the waiting thread used ${cpu} ms of CPU in a ${waited.toFixed(1)} ms wait (at most ${MAX_CPU_SHARE * 100}% expected)`);
  });

  test('a user\'s own setImmediate callbacks still run at once, in order, with their arguments', async () => {
    const exchange = await runOk(kernel(), [
      'const order: string[] = [];',
      // A promise's resolve function is native and anonymous too: it gets its argument.
      'order.push(await new Promise<string>((resolve) => globalThis.setImmediate(resolve as (value: string) => void, "resolved")));',
      'await new Promise<void>((done) => { setImmediate((tag: string) => order.push(tag), "first"); setImmediate(() => { order.push("second"); done(); }); });',
      'const { setImmediate: later } = await import("node:timers/promises");',
      'order.push(await later("promised"));',
      'console.log(order.join(","));',
    ].join('\n'));
    assert.match(streamText(exchange, 'stdout'), /^resolved,first,second,promised$/m);
  });
  test("a loop yielding with setImmediate keeps its pace while a readback waits for the GPU (at least a tenth of its idle pace)", async (t) => {
    const exchange = await runOk(kernel(), [
      '%device gpu:0',
      // Turns of a loop that yields with setImmediate, for 150 ms.
      'const turnsIn150ms = async () => { let turns = 0; const end = performance.now() + 150; while (performance.now() < end) { await new Promise<void>((resolve) => setImmediate(resolve)); turns++; } return turns; };',
      'const idle = await turnsIn150ms();',
      'const a = tf.randomNormal([1024, 1024]);',
      'await a.data();',
      'let c = a;',
      'for (let i = 0; i < 3; i++) c = tf.matMul(c, a);',
      'const reading = c.slice([0, 0], [1, 1]).data();',
      'const t0 = performance.now();',
      'const waiting = await turnsIn150ms();',
      'const stillWaiting = performance.now() - t0;',
      'await reading;',
      'console.log(`idle ${idle} waiting ${waiting} read-after ${(performance.now() - t0).toFixed(1)} name ${setImmediate.name}`);',
    ].join('\n'));
    const stdout = streamText(exchange, 'stdout');
    const idle = printedNumber(stdout, 'idle');
    const waiting = printedNumber(stdout, 'waiting');
    t.diagnostic(stdout.trim());
    assert.ok(printedNumber(stdout, 'read-after') >= 150, `the readback must still be waiting for the GPU while the loop runs: ${stdout}`);
    // Each turn also runs one of Dawn's polls (~10 µs on lavapipe), so a quarter or less of the idle
    // pace is what a loop gets beside an unpaced wait; polls that slept held it to 1–2%.
    assert.ok(waiting >= idle / 10, `the loop made ${waiting} turns in 150 ms during the GPU wait and ${idle} idle`);
    assert.match(stdout, /name setImmediate$/m, "setImmediate keeps Node's name");
  });
});
