// Two first uses of a GPU at once (moves in one Promise.all, in a fresh kernel) start its backend
// once: both wait for the same set-up, tfjs registers its kernels once, and both values arrive.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamText } from '../support/exchange';
import { runOk, theReport, useReportKernel } from '../support/report';

describe('two first moves to gpu:0 at once', () => {
  const kernel = useReportKernel();

  test('setup: cpu current, two host tensors, gpu:0 not used yet', async () => {
    await runOk(kernel(), '%device cpu\nconst A = tf.randomNormal([1024, 1024]); const B = tf.randomNormal([64, 64]);\nawait A.data(); await B.data();\n0');
  });

  test('one backend starts: no kernel registered twice, both moves arrive whole', async () => {
    const exchange = await runOk(kernel(), [
      "const [GA, GB] = await Promise.all([A.to('gpu:0'), B.to('gpu:0')]);",
      'const sums = await Promise.all([A.sum().data(), B.sum().data(), GA.sum().data(), GB.sum().data()]);',
      'console.log(`devices ${GA.device} ${GB.device} diffs ${Math.abs(sums[0][0] - sums[2][0])} ${Math.abs(sums[1][0] - sums[3][0])}`);',
    ].join('\n'));
    const stderr = streamText(exchange, 'stderr');
    assert.doesNotMatch(stderr, /already registered/, `the GPU's backend was started twice:\n${stderr.slice(0, 600)}`);
    const match = /devices (\S+) (\S+) diffs (\S+) (\S+)/.exec(streamText(exchange, 'stdout'));
    assert.ok(match !== null, streamText(exchange, 'stdout'));
    assert.deepEqual([match[1], match[2]], ['gpu:0', 'gpu:0']);
    assert.ok(Number(match[3]) < 1e-1 && Number(match[4]) < 1e-3, `values changed on the way: ${match[0]}`);
    const report = theReport(exchange);
    const uploads = report.meta.transfers.filter((move) => move.direction === 'H2D');
    assert.equal(uploads.length, 2, JSON.stringify(uploads));
    assert.equal(uploads.reduce((sum, move) => sum + move.bytes, 0), (1024 * 1024 + 64 * 64) * 4);
  });
});
