// Rich output from cells: display(), its typed helpers, handles that update an output in place,
// and clearOutput().
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeReply, iopubOf } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { Exchange } from '../support/kernel-client';
import { ContentOf } from '../support/message-schema';

/** Runs a cell that must succeed. */
async function ok(exchangeP: Promise<Exchange>): Promise<Exchange> {
  const exchange = await exchangeP;
  assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
  return exchange;
}

function displayId(message: ContentOf<'display_data'> | ContentOf<'update_display_data'> | undefined): unknown {
  return message?.transient['display_id'];
}

function assertHasTextPlain(messages: { data: Record<string, unknown> }[]): void {
  for (const { data } of messages) {
    assert.equal(typeof data['text/plain'], 'string', `bundle without text/plain: ${JSON.stringify(data)}`);
  }
}

describe('TypeScript display API', () => {
  const kernel = useKernel();

  test('display(mimebundle) sends display_data with that bundle, text/plain added, and a display_id', async () => {
    const exchange = await ok(kernel().execute("display({ 'text/html': '<i>hi</i>' });\nundefined"));
    const shown = iopubOf(exchange, 'display_data');
    assert.equal(shown.length, 1);
    assert.equal(shown[0]?.data['text/html'], '<i>hi</i>');
    assertHasTextPlain(shown);
    const id = displayId(shown[0]);
    assert.ok(typeof id === 'string' && id !== '', `transient.display_id: ${JSON.stringify(shown[0]?.transient)}`);
  });

  test('display(value) shows the value as text/plain in inspect style', async () => {
    const exchange = await ok(kernel().execute("display({ a: 1, b: 'x' });\nundefined"));
    assert.deepEqual(iopubOf(exchange, 'display_data').map((m) => m.data['text/plain']), ["{ a: 1, b: 'x' }"]);
  });

  test("display(value, { id }) uses that display_id and handle.update() sends update_display_data with the same id",
    async () => {
      const exchange = await ok(kernel().execute(
        "const progress = display('step 1', { id: 'progress-bar' });\nprogress.update('step 2');\nundefined"));
      const [shown] = iopubOf(exchange, 'display_data');
      const updates = iopubOf(exchange, 'update_display_data');
      assert.equal(displayId(shown), 'progress-bar');
      assert.equal(shown?.data['text/plain'], "'step 1'");
      assert.equal(updates.length, 1);
      assert.equal(displayId(updates[0]), 'progress-bar');
      assert.equal(updates[0]?.data['text/plain'], "'step 2'");
    });

  test('a handle kept from an earlier cell updates its output from a later cell', async () => {
    const first = await ok(kernel().execute("const status = display.html('<b>working</b>');\nundefined"));
    const id = displayId(iopubOf(first, 'display_data')[0]);
    const later = await ok(kernel().execute("status.update({ 'text/html': '<b>done</b>' });\nundefined"));
    const [update] = iopubOf(later, 'update_display_data');
    assert.equal(displayId(update), id);
    assert.equal(update?.data['text/html'], '<b>done</b>');
    assertHasTextPlain([update ?? { data: {} }]);
  });

  test('display.html, .markdown, .svg, .png and .json send their MIME types, each with text/plain', async () => {
    const exchange = await ok(kernel().execute([
      "display.html('<b>b</b>');",
      "display.markdown('# title');",
      "display.svg('<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>');",
      'display.png(new Uint8Array([137, 80, 78, 71]));',
      "display.png('iVBORw==');",
      "display.json({ a: 1, list: [1, 2] });",
      'undefined',
    ].join('\n')));
    const shown = iopubOf(exchange, 'display_data');
    assert.deepEqual(shown.map((m) => Object.keys(m.data).filter((k) => k !== 'text/plain')), [
      ['text/html'], ['text/markdown'], ['image/svg+xml'], ['image/png'], ['image/png'], ['application/json'],
    ]);
    assertHasTextPlain(shown);
    assert.equal(shown[0]?.data['text/html'], '<b>b</b>');
    assert.equal(shown[1]?.data['text/markdown'], '# title');
    assert.equal(shown[3]?.data['image/png'], Buffer.from([137, 80, 78, 71]).toString('base64'));
    assert.equal(shown[4]?.data['image/png'], 'iVBORw==');
    assert.deepEqual(shown[5]?.data['application/json'], { a: 1, list: [1, 2] });
    const ids = shown.map((m) => displayId(m));
    assert.equal(new Set(ids).size, ids.length, `each display gets its own display_id: ${JSON.stringify(ids)}`);
  });

  test("clearOutput() sends clear_output {wait: false}, clearOutput({ wait: true }) sends wait true", async () => {
    const exchange = await ok(kernel().execute("console.log('before');\nclearOutput();\nclearOutput({ wait: true });"));
    assert.deepEqual(iopubOf(exchange, 'clear_output'), [{ wait: false }, { wait: true }]);
    const kinds = exchange.iopub.map((m) => m.header.msg_type);
    assert.ok(kinds.indexOf('stream') < kinds.indexOf('clear_output'), `order: ${kinds.join(', ')}`);
  });

  test("`import { display } from 'tsgpu'` is the same display API", async () => {
    const exchange = await ok(kernel().execute(
      "import { display as show, clearOutput as clear } from 'tsgpu';\nshow.markdown('*imported*');\nclear();\nundefined"));
    assert.deepEqual(iopubOf(exchange, 'display_data').map((m) => m.data['text/markdown']), ['*imported*']);
    assert.deepEqual(iopubOf(exchange, 'clear_output'), [{ wait: false }]);
  });

  test('display outputs arrive in the order written, between stream output', async () => {
    const exchange = await ok(kernel().execute("console.log('a');\ndisplay('b');\nconsole.log('c');\nundefined"));
    const kinds = exchange.iopub.map((m) => m.header.msg_type).filter((k) => k === 'stream' || k === 'display_data');
    assert.deepEqual(kinds, ['stream', 'display_data', 'stream']);
  });
});
