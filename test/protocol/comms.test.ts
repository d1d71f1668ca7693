// Comms: widget front ends probe for them on connect; an unknown target must be closed, not left hanging.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { assertBusyThenIdle, iopubKinds } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { contentOf, okContent } from '../support/message-schema';

describe('comms', () => {
  const kernel = useKernel();

  test('comm_info lists no comms on a fresh kernel', async () => {
    const exchange = await kernel().request('shell', 'comm_info_request', {});
    assertBusyThenIdle(exchange);
    assert.deepEqual(okContent(exchange.reply, 'comm_info_reply').comms, {});
  });

  test('comm_info filtered by a target name lists no comms', async () => {
    const exchange = await kernel().request('shell', 'comm_info_request', { target_name: 'jupyter.widget' });
    assert.deepEqual(okContent(exchange.reply, 'comm_info_reply').comms, {});
  });

  test('comm_open for an unknown target is answered with comm_close for the same comm_id', async (t) => {
    const commId = randomUUID();
    const open = kernel().send('shell', 'comm_open', { comm_id: commId, target_name: 'no.such.target', data: {} });
    const closed = await kernel().waitForMessage(`comm_close for ${commId}`,
      (m) => m.header.msg_type === 'comm_close' && m.content['comm_id'] === commId);
    assert.equal(closed.channel, 'iopub');
    assert.deepEqual(contentOf(closed, 'comm_close'), { comm_id: commId, data: {} });
    const iopub = await open.idle();
    t.diagnostic(`iopub for the comm_open: ${iopubKinds({ iopub }).join(', ')}`);
    assert.deepEqual(okContent((await kernel().request('shell', 'comm_info_request', {})).reply, 'comm_info_reply').comms,
      {}, 'the refused comm is listed');
  });
});
