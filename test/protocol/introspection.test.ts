// Tab completion, Shift-Tab inspection and "is this cell finished?" (console clients ask before running).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBusyThenIdle } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { contentOf, okContent } from '../support/message-schema';

/** Cursor positions in the protocol count Unicode code points, not UTF-16 units (spec 5.2+). */
const codePoints = (text: string): string[] => Array.from(text);

describe('introspection', () => {
  const kernel = useKernel();

  describe('completion and inspection', () => {
    for (const [where, before, after] of [
      ['at the end of a cell', 'const s = "😀"; globalThis.setT', ''],
      ['in the middle of a line', '"😀😀"; globalThis.setT', '; "𝒳"\n1'],
    ] as const) {
      test(`completing globalThis.setT after an astral-plane emoji ${where} offers setTimeout at code-point cursors`,
        async () => {
          const code = before + after;
          const cursor = codePoints(before).length;
          const exchange = await kernel().request('shell', 'complete_request', { code, cursor_pos: cursor });
          assertBusyThenIdle(exchange);
          const reply = okContent(exchange.reply, 'complete_reply');
          assert.ok(reply.matches.includes('setTimeout'), `setTimeout not among ${JSON.stringify(reply.matches.slice(0, 20))}`);
          assert.equal(reply.cursor_end, cursor, 'cursor_end should be the cursor, in code points');
          const chars = codePoints(code);
          const applied = [...chars.slice(0, reply.cursor_start), 'setTimeout', ...chars.slice(reply.cursor_end)].join('');
          assert.equal(applied, before.replace(/setT$/, 'setTimeout') + after,
            `replacing code points [${reply.cursor_start}, ${reply.cursor_end}) with the match`);
        });
    }

    test('inspecting `Math.max` finds it and shows text', async () => {
      const code = 'Math.max';
      const exchange = await kernel().request('shell', 'inspect_request',
        { code, cursor_pos: codePoints(code).length, detail_level: 0 });
      assertBusyThenIdle(exchange);
      const reply = okContent(exchange.reply, 'inspect_reply');
      assert.equal(reply.found, true);
      const text = reply.data['text/plain'];
      assert.ok(typeof text === 'string' && text !== '', `no text/plain in ${JSON.stringify(reply.data)}`);
    });

    test('inspecting an undefined name answers found false', async () => {
      const code = '"😀"; noSuchNameAnywhere';
      const reply = okContent((await kernel().request('shell', 'inspect_request',
        { code, cursor_pos: codePoints(code).length, detail_level: 0 })).reply, 'inspect_reply');
      assert.equal(reply.found, false);
    });
  });

  describe('is the cell complete?', () => {
    const isComplete = async (code: string) => {
      const exchange = await kernel().request('shell', 'is_complete_request', { code });
      assertBusyThenIdle(exchange);
      return contentOf(exchange.reply, 'is_complete_reply');
    };

    test('`1 + 1` is complete', async () => {
      assert.deepEqual(await isComplete('1 + 1'), { status: 'complete' });
    });

    test('`for (;;) {` is incomplete and suggests an indent', async () => {
      const reply = await isComplete('for (;;) {');
      assert.equal(reply.status, 'incomplete');
      assert.equal(typeof (reply.status === 'incomplete' ? reply.indent : undefined), 'string');
    });

    test('`1 +* )` is invalid', async () => {
      assert.equal((await isComplete('1 +* )')).status, 'invalid');
    });
  });
});
