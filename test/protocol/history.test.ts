// Input history as console clients (up-arrow, %history) ask for it. Session 1 is the current one.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { assertBusyThenIdle, executeReply } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { okContent } from '../support/message-schema';

/** Lines 1-4 of session 1; the store_history:false cell gets no line. */
const CELLS = ['globalThis.h1 = 1', '2 + 2', "console.log('printed')", 'globalThis.h1 = 1'];
const HIDDEN = 'globalThis.hidden = 1';

describe('history', () => {
  const kernel = useKernel();

  async function history(content: Record<string, unknown>) {
    const exchange = await kernel().request('shell', 'history_request', { output: false, raw: true, ...content });
    assertBusyThenIdle(exchange);
    return okContent(exchange.reply, 'history_reply').history;
  }

  before(async () => {
    for (const [i, code] of CELLS.entries()) {
      const reply = executeReply(await kernel().execute(code));
      assert.equal(reply.execution_count, i + 1, `setup: ${code} should be line ${i + 1}`);
      if (i === 1) assert.equal(executeReply(await kernel().execute(HIDDEN, { store_history: false })).status, 'ok');
    }
  });

  test('tail returns the last n inputs as [session, line, input]', async () => {
    assert.deepEqual(await history({ hist_access_type: 'tail', n: 2 }), [
      [1, 3, "console.log('printed')"],
      [1, 4, 'globalThis.h1 = 1'],
    ]);
  });

  test('range returns lines start to stop - 1 of the session', async () => {
    assert.deepEqual(await history({ hist_access_type: 'range', session: 1, start: 1, stop: 3 }), [
      [1, 1, 'globalThis.h1 = 1'],
      [1, 2, '2 + 2'],
    ]);
  });

  test('search matches a glob pattern, and unique drops repeated inputs', async () => {
    const all = await history({ hist_access_type: 'search', pattern: 'globalThis.h1*', unique: false, n: 10 });
    assert.deepEqual(all.map((entry) => entry[2]), ['globalThis.h1 = 1', 'globalThis.h1 = 1']);
    const unique = await history({ hist_access_type: 'search', pattern: 'globalThis.h1*', unique: true, n: 10 });
    assert.deepEqual(unique.map((entry) => entry[2]), ['globalThis.h1 = 1']);
    const none = await history({ hist_access_type: 'search', pattern: 'nothing like this*', unique: false, n: 10 });
    assert.deepEqual(none, []);
  });

  test('with output true each entry pairs the input with its result text', async () => {
    assert.deepEqual(await history({ hist_access_type: 'range', session: 1, start: 2, stop: 3, output: true }), [
      [1, 2, ['2 + 2', '4']],
    ]);
  });

  test('cells run with store_history false are not in the history', async () => {
    const inputs = (await history({ hist_access_type: 'tail', n: 100 })).map((entry) => entry[2]);
    assert.deepEqual(inputs, CELLS);
  });
});
