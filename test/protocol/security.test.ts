// Only correctly signed, fresh, well-formed messages may act; everything else is dropped silently
// and the kernel keeps serving.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, iopubOf } from '../support/exchange';
import { freshKernel, useKernel } from '../support/fixtures';
import { executeContent, KernelClient } from '../support/kernel-client';
import { isRunning } from '../support/kernel-process';
import { okContent } from '../support/message-schema';
import { DELIMITER } from '../support/wire-sign';
import { sleep } from '../support/time';

/**
 * The kernel handles a channel's messages in order, so once a later valid request is fully
 * answered, a reply to the dropped one would already be here; 300 ms more covers stray iopub.
 */
async function assertIgnored(kernel: KernelClient, msgIds: string[], channel: 'shell' | 'control'): Promise<void> {
  const after = await kernel.request(channel, 'kernel_info_request');
  okContent(after.reply, 'kernel_info_reply');
  await sleep(300);
  for (const id of msgIds) {
    assert.deepEqual(kernel.messagesFor(id).map((m) => `${m.channel}/${m.header.msg_type}`), [],
      'the kernel answered or published for a message it should have dropped');
  }
}

describe('refusing messages that are not properly signed', () => {
  const kernel = useKernel();

  test('a request with a wrong signature gets no reply, publishes nothing, and the kernel keeps answering', async () => {
    const msg = kernel().makeMessage('execute_request', executeContent('globalThis.forged = true'));
    const good = kernel().frames(msg);
    const signature = good[1]?.toString() ?? '';
    const flipped = (signature.startsWith('0') ? '1' : '0') + signature.slice(1);
    kernel().track(msg, 'shell');
    await kernel().sendFrames('shell', kernel().frames(msg, flipped));
    await assertIgnored(kernel(), [msg.header.msg_id], 'shell');
    assert.equal(await evaluate(kernel(), 'globalThis.forged === undefined'), 'true');
  });

  test('a request whose content was changed after signing is dropped', async () => {
    const msg = kernel().makeMessage('execute_request', executeContent('1'));
    const frames = kernel().frames(msg);
    frames[5] = Buffer.from(JSON.stringify(executeContent('globalThis.tampered = true')));
    await kernel().sendFrames('shell', frames);
    await assertIgnored(kernel(), [msg.header.msg_id], 'shell');
    assert.equal(await evaluate(kernel(), 'globalThis.tampered === undefined'), 'true');
  });

  test('a request with an empty signature frame is dropped when the kernel has a key', async () => {
    const pending = kernel().send('shell', 'kernel_info_request', {}, { signature: '' });
    await assertIgnored(kernel(), [pending.msgId], 'shell');
  });

  test('a badly signed shutdown_request on control does not stop the kernel', async () => {
    const pending = kernel().send('control', 'shutdown_request', { restart: false }, { signature: 'a'.repeat(64) });
    await assertIgnored(kernel(), [pending.msgId], 'control');
    assert.ok(isRunning(kernel().pid), 'the kernel process stopped');
  });

  test('a replayed execute_request (identical frames sent twice) runs its cell once', async () => {
    const msg = kernel().makeMessage('execute_request',
      executeContent('globalThis.replayed = (globalThis.replayed ?? 0) + 1'));
    const pending = kernel().track(msg, 'shell');
    const frames = kernel().frames(msg);
    await kernel().sendFrames('shell', frames);
    await pending.done();
    await kernel().sendFrames('shell', frames);
    await assertIgnored(kernel(), [], 'shell');
    assert.equal(pending.replies.length, 1, 'the replayed request got a second reply');
    assert.equal(iopubOf(pending, 'execute_input').length, 1, 'the replayed request ran again');
    assert.equal(await evaluate(kernel(), 'globalThis.replayed'), '1');
  });

  test('malformed messages (no delimiter, missing frames, bad JSON, non-object header) are dropped and the next request is answered',
    async (t) => {
      const k = kernel();
      const sign = (parts: string[]): string => k.sign(parts);
      const signed = (parts: string[]): string[] => [DELIMITER, sign(parts), ...parts];
      const malformed: [string, string[]][] = [
        ['no delimiter', ['just', 'some', 'frames']],
        ['delimiter only', [DELIMITER]],
        ['delimiter and signature only', [DELIMITER, sign([])]],
        ['invalid JSON header', signed(['{"msg_id":', '{}', '{}', '{}'])],
        ['header is an array', signed(['[]', '{}', '{}', '{}'])],
        ['header without msg_type', signed([JSON.stringify({ msg_id: 'm', session: 's', username: 'u', version: '5.3' }),
          '{}', '{}', '{}'])],
        ['content is a string', signed([JSON.stringify(k.makeMessage('kernel_info_request').header), '{}', '{}', '"x"'])],
      ];
      for (const channel of ['shell', 'control'] as const) {
        for (const [, frames] of malformed) await k.sendFrames(channel, frames);
        await assertIgnored(k, [], channel);
      }
      assert.ok(isRunning(k.pid), 'the kernel process died');
      assert.equal(await evaluate(k, '40 + 2'), '42');
      t.diagnostic(`sent ${malformed.map(([name]) => name).join('; ')} on shell and control`);
    });
});

describe('running without a key', () => {
  test('with an empty key the kernel accepts unsigned messages and sends unsigned ones', async (t) => {
    const k = await freshKernel(t, { key: '' });
    assert.equal(await evaluate(k, '1 + 1'), '2');
    okContent((await k.request('control', 'kernel_info_request')).reply, 'kernel_info_reply');
    assert.deepEqual(k.problems, [], 'messages from the kernel were unreadable with an empty key');
  });
});
