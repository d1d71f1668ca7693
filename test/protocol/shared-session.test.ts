// jupyter_client names a client's shell, control and stdin sockets after its session, so two
// clients of one KernelManager (`km.client()` twice) reach the kernel under one name. The second is
// answered (as ipykernel does), not ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executeReply, resultText } from '../support/exchange';
import { freshKernel } from '../support/fixtures';
import { KernelClient } from '../support/kernel-client';

test('a second client with the first one\'s session is answered: kernel_info, then a cell once the first has gone', async (t) => {
  const owner = await freshKernel(t);
  const first = new KernelClient(owner.info);
  t.after(() => first.close());
  await first.waitReady(20_000);
  assert.equal(executeReply(await first.execute('var shared = 40', {}, { timeoutMs: 60_000 })).status, 'ok');
  const second = new KernelClient(owner.info, {}, { session: first.session });
  t.after(() => second.close());
  // The old kernel refused the second connection under that name: every request of it went unanswered.
  await second.waitReady(20_000);
  await first.close();
  const exchange = await second.execute('shared + 2', {}, { timeoutMs: 60_000 });
  assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
  assert.equal(resultText(exchange), '42');
});
