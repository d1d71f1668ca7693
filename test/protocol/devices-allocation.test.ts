// A GPU that cannot hold a tensor never costs the tensor: the move fails with a DeviceError that
// says how big, what the device holds and what to do, the tensor stays on the host bit for bit, and
// the kernel goes on. The kernel asks Dawn for WebGPU's default 256 MiB largest buffer
// (TSGPU_GPU_MAX_BUFFER_SIZE; lavapipe would allow 4 GiB, more than the host side can hold), a real
// device limit that Dawn enforces itself.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEVICE_TIMEOUT_MS, errorOf, liveBytes, printed, runOk, SHADER_CACHE_DIR, useDeviceKernel, valueOf,
} from '../support/devices';
import { useKernel } from '../support/fixtures';

const LIMIT = 256 * 1024 * 1024;
/** One element more than the GPU can hold in one buffer, for every dtype (bool and int32 take 4 bytes there too). */
const ELEMENTS = LIMIT / 4 + 1;

const HASH = "import { createHash as hashOf } from 'node:crypto';\n"
  + 'const digest = async (x: any) => hashOf("sha256").update(new Uint8Array((await x.data()).buffer)).digest("hex");';

describe('a GPU that cannot hold a tensor', () => {
  const kernel = useKernel({ readyTimeoutMs: DEVICE_TIMEOUT_MS, env: { MESA_SHADER_CACHE_DIR: SHADER_CACHE_DIR, TSGPU_GPU_MAX_BUFFER_SIZE: String(LIMIT) } });

  test('an explicit move too big for gpu:0 fails with a clear DeviceError, and the tensor stays on cpu bit-identical (float32, int32, bool)', async () => {
    await runOk(kernel(), `${HASH}\nawait tf.ones([4]).to('gpu:0'); 0`);
    const makers: Record<string, string> = {
      float32: `tf.tensor(Float32Array.from({ length: ${ELEMENTS} }, (_, i) => (i % 2 ? -1 : 1) * i / 7), undefined, 'float32')`,
      int32: `tf.tensor(Int32Array.from({ length: ${ELEMENTS} }, (_, i) => i * 2654435761), undefined, 'int32')`,
      bool: `tf.tensor(Uint8Array.from({ length: ${ELEMENTS} }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0), undefined, 'bool')`,
    };
    for (const [dtype, make] of Object.entries(makers)) {
      const name = `big_${dtype}`;
      await runOk(kernel(), `const ${name} = ${make};\nconst ${name}Hash = await digest(${name}); 0`);
      const before = await printed(kernel(), '%memory');
      const error = await errorOf(kernel(), `await ${name}.to('gpu:0');`);
      assert.equal(error.ename, 'DeviceError', `${dtype}: ${error.ename}: ${error.evalue}`);
      assert.match(error.evalue, /gpu:0 could not make a 256\.0\d? MiB buffer/, dtype);
      assert.match(error.evalue, /max buffer size|maxBufferSize/i, `${dtype}: the reason is not named: ${error.evalue}`);
      assert.match(error.evalue, /stays where it was, unchanged/, dtype);
      assert.match(error.evalue, /at most 256\.0\d? MiB/, `${dtype}: the device's limit is not named: ${error.evalue}`);
      assert.match(error.evalue, /Split it/, `${dtype}: no advice: ${error.evalue}`);
      assert.match(error.evalue, /one op can use at most 128\.0\d? MiB/, `${dtype}: the binding limit is not named: ${error.evalue}`);
      assert.equal(await valueOf(kernel(), `[${name}.device, ${name}.isDisposed, ${name}.dtype, (await digest(${name})) === ${name}Hash]`),
        `[ 'cpu', false, '${dtype}', true ]`, `${dtype}: the tensor did not stay on the host intact`);
      const after = await printed(kernel(), '%memory');
      const [was, is] = [liveBytes(before, 'gpu:0'), liveBytes(after, 'gpu:0')];
      assert.ok(Math.abs(is.bytes - was.bytes) <= was.error + is.error, `${dtype}: gpu:0 live bytes changed ${was.bytes} -> ${is.bytes}:\n${before}\n${after}`);
    }
    assert.equal(await valueOf(kernel(), "Array.from(await (await tf.tensor([1, 2]).to('gpu:0')).add(1).data())"), '[ 2, 3 ]',
      'gpu:0 stopped working after refusing a buffer');
  });

  // tfjs lets the source's copy go before the destination takes the values: a 4.3 GiB gpu:0 tensor
  // held in host arrays, refused by cpu's wasm heap ("Invalid typed array length"), said it was on
  // cpu and held a fraction of its values. The cell makes the wasm backend refuse the next move itself.
  test('a move the destination refuses (cpu\'s wasm backend, as for a 4.3 GiB tensor) fails with a DeviceError and the tensor stays on gpu:0 bit-identical', async () => {
    await runOk(kernel(), [
      "const heldOnGpu = await withDevice('gpu:0', () => tf.tensor(Float32Array.from({ length: 100000 }, (_, i) => i / 7)));",
      'const heldHash = await digest(heldOnGpu);',
      'const wasmBackend = (tf.engine() as unknown as { registry: Record<string, { move: (...args: unknown[]) => void }> }).registry["wasm"]!;',
      'const wasmMove = wasmBackend.move;',
      "wasmBackend.move = () => { wasmBackend.move = wasmMove; throw new RangeError('Invalid typed array length: 4613734400'); };",
      'heldOnGpu.device',
    ].join('\n'));
    const error = await errorOf(kernel(), "await heldOnGpu.to('cpu');");
    assert.equal(error.ename, 'DeviceError', `${error.ename}: ${error.evalue}`);
    assert.match(error.evalue, /Invalid typed array length/, error.evalue);
    assert.match(error.evalue, /stays on gpu:0, unchanged/, error.evalue);
    assert.equal(await valueOf(kernel(), '[heldOnGpu.device, heldOnGpu.isDisposed, (await digest(heldOnGpu)) === heldHash]'), "[ 'gpu:0', false, true ]");
    assert.equal(await valueOf(kernel(), "await heldOnGpu.to('cpu');\n[heldOnGpu.device, (await digest(heldOnGpu)) === heldHash]"), "[ 'cpu', true ]",
      'moved again once the destination takes it, the values are all there');
  });

  test('an op whose input would have to move to gpu:0 and cannot leaves the input intact on the host', async () => {
    await runOk(kernel(), `const bigHost = tf.ones([${ELEMENTS}]);\nconst tiny = await tf.ones([1]).to('gpu:0');\nconst bigHostHash = await digest(bigHost); 0`);
    const error = await errorOf(kernel(), 'tiny.add(bigHost)');
    assert.equal(error.ename, 'DeviceError', `${error.ename}: ${error.evalue}`);
    // Refused by the binding limit (128 MiB) or by the buffer limit: either way before anything moved.
    assert.match(error.evalue, /256\.0\d? MiB/);
    assert.equal(await valueOf(kernel(), '[bigHost.device, (await digest(bigHost)) === bigHostHash, Array.from(await tiny.data())]'), "[ 'cpu', true, [ 1 ] ]");
  });

  test('an op whose output is too big for gpu:0 fails before it runs, and its input computes on', async () => {
    await runOk(kernel(), "const seed = await tf.tensor([1, 2, 3, 4]).to('gpu:0'); 0");
    const error = await errorOf(kernel(), `seed.tile([${LIMIT / 16 + 1}])`);
    assert.equal(error.ename, 'DeviceError', `${error.ename}: ${error.evalue}`);
    assert.match(error.evalue, /Nothing was changed/);
    assert.equal(await valueOf(kernel(), 'Array.from(await seed.mul(2).data())'), '[ 2, 4, 6, 8 ]');
  });

  test("a refused op gives back the references it took on its inputs: dropped, they are freed (the GPU's own count)", async () => {
    const used = "(tf.engine().registry['gpu:0'] as any).bufferManager.numBytesUsed";
    await printed(kernel(), '%gc');
    const before = Number(await valueOf(kernel(), used));
    await runOk(kernel(), `let quarter = await tf.ones([${LIMIT / 16}]).to('gpu:0'); 0`);
    // Concat reshapes its inputs (a reference each) before it asks for its 320 MiB output.
    const error = await errorOf(kernel(), 'tf.concat([quarter, quarter, quarter, quarter, quarter])');
    assert.equal(error.ename, 'DeviceError', `${error.ename}: ${error.evalue}`);
    assert.equal(await valueOf(kernel(), 'Array.from((await quarter.slice([0], [2]).data()))'), '[ 1, 1 ]', 'the input was damaged');
    await runOk(kernel(), 'quarter = null as any; 0');
    await printed(kernel(), '%gc');
    const after = Number(await valueOf(kernel(), used));
    assert.ok(after - before < LIMIT / 16, `gpu:0 still uses ${after - before} B more than before the 64 MiB input was made and dropped`);
  });
});

describe("a GPU's own largest buffer", () => {
  const kernel = useDeviceKernel();

  test("an op asking gpu:0 for more than its maxBufferSize (read from the device) is refused before it runs", async () => {
    const limit = Number(await valueOf(kernel(), "%device gpu:0\n(tf.engine().backend as any).device.limits.maxBufferSize"));
    assert.ok(limit > 0, 'no maxBufferSize read from gpu:0');
    try {
      const error = await errorOf(kernel(), `tf.fill([${Math.floor(limit / 4) + 1}], 1)`);
      assert.equal(error.ename, 'DeviceError', `${error.ename}: ${error.evalue}`);
      assert.match(error.evalue, /more than its largest buffer/);
      assert.equal(await valueOf(kernel(), 'Array.from(await tf.ones([2]).sum().data())'), '[ 2 ]');
    } finally {
      await printed(kernel(), '%device cpu');
    }
  });
});
