// Host op time against the cell's own clock: each op the cell runs is timed by the cell itself
// (performance.now() around the call), and the report's host ms for the device must be that sum
// within a sane error, never more than the cell's whole run. The cells mix one long op (a sum over
// 64 MiB) with many tiny ones: a sample of one op in 16 scaled up would count the long one 16×.
// A heavy op with a tiny input (a tile to 16 MiB) in a loop of tiny ones breaks any sample taken by
// position: where the sample lands on it, it counts 16×; one slot later, never.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { deviceOf, runOk, theReport, useReportKernel } from '../support/report';

/** The cell's own sum of its ops' times, printed as `measured N`. */
function measuredIn(stdout: string): { measured: number; wall: number } {
  const match = /measured ([\d.]+) wall ([\d.]+)/.exec(stdout);
  assert.ok(match !== null, `the cell printed no measurement: ${JSON.stringify(stdout)}`);
  return { measured: Number(match[1]), wall: Number(match[2]) };
}

describe('inline report: host op time', () => {
  const kernel = useReportKernel();

  test('setup: cpu current, 64 MiB of values and a scalar', async () => {
    await runOk(kernel(), '%device cpu\nconst big = tf.randomNormal([16 * 1024 * 1024]);\nconst one = tf.scalar(1);\nconst small = tf.tensor1d([1, 2, 3, 4]);\nawait big.data();\n0');
  });

  const cases: [string, string][] = [
    ['one long op first, then 31 tiny ones', [
      'let measured = 0;',
      'let t0 = performance.now(); const sum = tf.add(big, big); measured += performance.now() - t0;',
      'for (let i = 0; i < 31; i++) { t0 = performance.now(); const r = tf.add(one, one); measured += performance.now() - t0; r.dispose(); }',
      'sum.dispose();',
    ].join('\n')],
    ['a long op every 16th, tiny ones between', [
      'let measured2 = 0;',
      'for (let i = 0; i < 48; i++) { const t0 = performance.now(); const r = i % 16 === 0 ? tf.add(big, big) : tf.add(one, one); measured2 += performance.now() - t0; r.dispose(); }',
      'const measured = measured2;',
    ].join('\n')],
    ...[1, 2].map((slot): [string, string] => [`a tile of a 16 B tensor to 16 MiB in slot ${slot} of every 16 ops, tiny ones between`, [
      `let measured${slot + 2} = 0;`,
      `for (let i = 0; i < 64; i++) { const t0 = performance.now(); const r = i % 16 === ${slot} ? tf.tile(small, [1024 * 1024]) : tf.add(one, one); measured${slot + 2} += performance.now() - t0; r.dispose(); }`,
      `const measured = measured${slot + 2};`,
    ].join('\n')]),
  ];
  for (const [what, code] of cases) {
    test(`${what}: the report's cpu host ms is the cell's own sum (±20%), and no more than the cell's own run`, async () => {
      const exchange = await runOk(kernel(), `{\nconst opened = performance.now();\n${code}\nconsole.log(\`measured \${measured.toFixed(3)} wall \${(performance.now() - opened).toFixed(3)}\`);\n}`);
      const { measured, wall } = measuredIn(streamText(exchange, 'stdout'));
      const report = theReport(exchange);
      const cpu = deviceOf(report, 'cpu');
      assert.ok(cpu.opMs <= wall, `host ${cpu.opMs.toFixed(1)} ms is more than the cell's own run took, ${wall.toFixed(1)} ms`);
      assert.ok(Math.abs(cpu.opMs - measured) <= 0.2 * measured,
        `the report says cpu ops took ${cpu.opMs.toFixed(1)} ms of host time; the cell timed its own ops at ${measured.toFixed(1)} ms (20% allowed)`);
      const shown = /cpu \d+ ops, host ([\d.]+) (ms|s)/.exec(report.text);
      assert.ok(shown !== null, report.text);
      const shownMs = Number(shown[1]) * (shown[2] === 's' ? 1000 : 1);
      assert.ok(Math.abs(shownMs - measured) <= 0.2 * measured + 1, `the line shows host ${shown[1]} ${shown[2]}; the cell measured ${measured.toFixed(1)} ms`);
    });
  }
});
