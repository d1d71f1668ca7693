// An interrupt stops a move between the host and a GPU at its next chunk boundary (or before its
// first, while it clears its new buffer): the tensor stays whole where it was, and nothing of the
// move goes on. It used to go on after its cell ended Interrupted, and land in a later cell (a
// 128 MiB upload put the tensor on gpu:0 seconds later, while another cell ran). Whatever crossed
// before the stop is in the interrupted cell's report as whole chunks, never as the whole move.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { executeReply } from '../support/exchange';
import { describeOutcome, runOk, useDeviceKernel, valueOf } from '../support/devices';
import { readReport, reportsOf } from '../support/report';

const BYTES = 128 * 2 ** 20;
const CHUNK = 8 * 2 ** 20;

describe('interrupting a move between the host and a GPU', () => {
  const kernel = useDeviceKernel();

  test('setup: gpu:0 set up, a 128 MiB host tensor and a copy of its values', async () => {
    await runOk(kernel(), "%device cpu\nawait tf.ones([1024]).to('gpu:0');\nconst h = tf.randomNormal([32 * 1024 * 1024]);\nconst values = (await h.data()) as Float32Array;\n"
      + 'const same = (got: Float32Array) => got.length === values.length && got.every((value, i) => Object.is(value, values[i]));\n0');
  });

  test('an upload into a new buffer, interrupted once under way: the tensor stays on cpu, whole, and stays there', async () => {
    // The cell says when the move is under way; the interrupt is sent then.
    const sent = performance.now();
    // The cell lets the move get under way (past its first awaits, its interrupt watch set) before it says so.
    const running = kernel().startExecute("const moving = h.to('gpu:0');\nawait new Promise((resolve) => setTimeout(resolve, 50));\nconsole.log('moving');\nawait moving;", {}, { timeoutMs: 60_000 });
    await running.iopubMessage('stream');
    await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 10_000 });
    const interrupted = await running.done();
    const elapsed = performance.now() - sent;
    const reply = executeReply(interrupted);
    assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted', describeOutcome(interrupted));
    assert.equal(await valueOf(kernel(), 'h.device'), "'cpu'", 'the tensor is where the interrupt found it');
    await sleep(1500);
    assert.equal(await valueOf(kernel(), 'h.device'), "'cpu'", 'and stays there: the move does not go on');
    assert.equal(await valueOf(kernel(), 'same((await h.data()) as Float32Array)'), 'true', 'its values are intact');
    const moves = reportsOf(interrupted).flatMap((shown) => readReport(shown).meta.transfers).filter((move) => move.bytes >= CHUNK);
    for (const move of moves) {
      assert.ok(move.direction === 'H2D' && move.bytes < BYTES && move.bytes % CHUNK === 0, `what crossed is whole chunks, not the move: ${JSON.stringify(move)}`);
    }
    console.log(`stopped; crossed ${moves.map((move) => `${move.bytes} B in ${move.ms.toFixed(1)} ms`).join(', ') || 'nothing'}`);
    // Stopped before its first chunk (clearing its new buffer), it is in the report all the same, as 0 B and the time it took.
    const attempts = reportsOf(interrupted).flatMap((shown) => readReport(shown).meta.transfers).filter((move) => move.direction === 'H2D' && move.operation === 'to');
    assert.equal(attempts.length, 1, `the stopped move is in the cell's report once: ${JSON.stringify(attempts)}`);
    assert.ok(attempts[0]!.bytes % CHUNK === 0 && attempts[0]!.ms > 0 && attempts[0]!.ms <= elapsed, `${JSON.stringify(attempts[0])}; the cell took ${elapsed.toFixed(1)} ms from its request to its reply`);
  });

  test('moved again, it lands whole', async () => {
    assert.equal(await valueOf(kernel(), "const onGpu = await h.to('gpu:0');\n[onGpu.device, same((await onGpu.data()) as Float32Array)]"), "[ 'gpu:0', true ]");
  });
});
