// GPU faults never take the kernel down: an op that a GPU cannot run gets a clear error naming the
// limit and the fix, and every variable survives for the next cell.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceLine, errorOf, printed, runOk, useDeviceKernel, valueOf } from '../support/devices';

describe('GPU faults', () => {
  const kernel = useDeviceKernel();

  test('an input larger than the GPU can bind in one op is refused with the limit and the fix, not zeros', async () => {
    await runOk(kernel(), "const keep = 41;\nconst huge = tf.zeros([40 * 1024 * 1024]);\nawait huge.to('gpu:0');\n0");
    const error = await errorOf(kernel(), 'huge.add(1)');
    assert.equal(error.ename, 'DeviceError');
    assert.match(error.evalue, /input 'a' is 160\.0 MiB, more than gpu:0 can bind in one op \(128 MiB\)/);
    assert.match(error.evalue, /split it|await x\.cpu\(\)/);
    assert.equal(await valueOf(kernel(), 'huge.dispose(); keep + 1'), '42');
  });

  test('%devices still shows gpu:0 ready after the refused op', async () => {
    const table = await printed(kernel(), '%devices');
    assert.match(deviceLine(table, 'gpu:0') ?? '', /\bready\b/);
  });
});
