// Host op time is the op as tfjs runs it, not the kernel call alone: tfjs's op wrapper converts
// the arguments (a nested JS array becomes a tensor), checks shapes, opens and closes the op's
// scope, all on the host, around the kernel. The cell times each of its own calls
// (performance.now() around the call) and the report's host time for cpu must be that sum within
// a sane error. An op whose argument is a 256×256 array of numbers spends most of its time
// converting it; timing only the kernel showed 5.2 ms of 255 ms.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { deviceOf, runOk, theReport, useReportKernel } from '../support/report';

/** The cell's own sum of its op calls' times, printed as `measured N wall N`. */
function measuredIn(stdout: string): { measured: number; wall: number } {
  const match = /measured ([\d.]+) wall ([\d.]+)/.exec(stdout);
  assert.ok(match !== null, `the cell printed no measurement: ${JSON.stringify(stdout)}`);
  return { measured: Number(match[1]), wall: Number(match[2]) };
}

/** A cell that times each op call itself, `count` times, and prints the sum. */
function timedLoop(count: number, call: string): string {
  return [
    '{',
    'const opened = performance.now();',
    'let measured = 0;',
    `for (let i = 0; i < ${count}; i++) { const t0 = performance.now(); const r = ${call}; measured += performance.now() - t0; r.dispose(); }`,
    'console.log(`measured ${measured.toFixed(3)} wall ${(performance.now() - opened).toFixed(3)}`);',
    '}',
  ].join('\n');
}

describe('inline report: host op time covers tfjs\'s own work around the kernel', () => {
  const kernel = useReportKernel();

  test('setup: cpu current, a scalar, 4 values and a 256×256 array of numbers', async () => {
    await runOk(kernel(), '%device cpu\nconst two = tf.scalar(2);\nconst small = tf.tensor1d([1, 2, 3, 4]);\nconst rows = Array.from({ length: 256 }, (_, i) => Array.from({ length: 256 }, (_, j) => i + j));\n0');
  });

  /** [what, the call, how many calls, kernels per call] */
  const cases: [string, string, number, number][] = [
    ['an op given a 256×256 JS array (tfjs converts it inside the op)', 'tf.mul(two, rows)', 20, 1],
    ['10,000 tiny muls', 'tf.mul(two, two)', 10_000, 1],
    // An op made of ops (squared difference, then a mean): timed once, as a whole, not again per inner op.
    ['500 losses of 4 values (ops inside an op)', 'tf.losses.meanSquaredError(small, small)', 500, 0],
  ];
  for (const [what, call, count, kernels] of cases) {
    test(`${what}: the report's cpu host ms is the cell's own sum (±20%), and no more than the cell's own run`, async (t) => {
      // A garbage collection outside the op's scope (between the cell's clock reads) adds a few ms
      // to the cell's sum that no op took: 7 ms in 32 ms of tiny losses, in both this build and the
      // one before it. A wrong figure is wrong in every run; such a pause is in one. So the cell
      // runs up to three times, and the run checked is the one closest to its own sum.
      let closest: { exchange: Awaited<ReturnType<typeof runOk>>; measured: number; wall: number; error: number } | null = null;
      for (let attempt = 0; attempt < 3 && (closest === null || closest.error > 0.2); attempt++) {
        const exchange = await runOk(kernel(), timedLoop(count, call));
        const { measured, wall } = measuredIn(streamText(exchange, 'stdout'));
        const error = Math.abs(deviceOf(theReport(exchange), 'cpu').opMs - measured) / measured;
        t.diagnostic(`run ${attempt + 1}: measured ${measured.toFixed(1)} ms, report ${deviceOf(theReport(exchange), 'cpu').opMs.toFixed(1)} ms`);
        if (closest === null || error < closest.error) closest = { exchange, measured, wall, error };
      }
      const { exchange, measured, wall } = closest!;
      const report = theReport(exchange);
      const cpu = deviceOf(report, 'cpu');
      if (kernels > 0) assert.equal(cpu.ops, count * kernels, `the report counts ${cpu.ops} cpu ops for ${count} calls`);
      else assert.ok(cpu.ops > count, `the report counts ${cpu.ops} cpu ops for ${count} calls of several kernels each`);
      assert.ok(cpu.opMs <= wall, `host ${cpu.opMs.toFixed(1)} ms is more than the cell's own run took, ${wall.toFixed(1)} ms`);
      assert.ok(Math.abs(cpu.opMs - measured) <= 0.2 * measured,
        `the report says cpu ops took ${cpu.opMs.toFixed(1)} ms of host time; the cell timed its own calls at ${measured.toFixed(1)} ms (20% allowed)`);
      const shown = /cpu \d+ ops, host ([\d.]+) (µs|ms|s)/.exec(report.text);
      assert.ok(shown !== null, report.text);
      const shownMs = Number(shown[1]) * ({ µs: 0.001, ms: 1, s: 1000 } as Record<string, number>)[shown[2]!]!;
      assert.ok(Math.abs(shownMs - measured) <= 0.2 * measured + 1, `the line shows host ${shown[1]} ${shown[2]}; the cell measured ${measured.toFixed(1)} ms`);
    });
  }
});
