// Hints for the mistakes newcomers to tensors make: calling tensor methods on arrays and strings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cellError, executeReply } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { assertQuoted, assertTsError } from '../support/typescript';

const HINT_START = 'Hint: arrays and strings are not tensors';

function assertHintLast(traceback: readonly string[]): void {
  const last = traceback.at(-1) ?? '';
  assert.ok(last.startsWith(HINT_START), `the traceback should end with the hint:\n${traceback.join('\n')}`);
  assert.ok(last.includes("asTensor(labels, 'int32')"), `the hint should show asTensor(labels, 'int32'): ${last}`);
}

describe('TypeScript hints', () => {
  const kernel = useKernel();

  test("`labels.cuda()` on a string array is TS2339 and the traceback ends with the asTensor hint", async () => {
    const source = "const labels = ['1','0']; labels.cuda()";
    const error = cellError(await kernel().execute(source, {}, { timeoutMs: 30_000 }));
    const [problem] = assertTsError(error);
    assert.equal(problem?.code, 2339, error.evalue);
    assert.match(problem?.message ?? '', /Property 'cuda' does not exist on type 'string\[\]'/);
    assertQuoted(error.traceback, problem?.at ?? -1, { line: 1, column: source.indexOf('cuda') + 1, source, width: 4 });
    assertHintLast(error.traceback);
  });

  test('with %typecheck off the same mistake fails at run time with TypeError and the same hint at the end',
    async () => {
      assert.equal(executeReply(await kernel().execute('%typecheck off')).status, 'ok');
      const error = cellError(await kernel().execute("const labels = ['1','0']; labels.cuda()"));
      assert.equal(error.ename, 'TypeError');
      assert.match(error.evalue, /cuda is not a function/);
      assertHintLast(error.traceback);
      assert.equal(executeReply(await kernel().execute('%typecheck on')).status, 'ok');
    });

  test('an unrelated type error carries no tensor hint', async () => {
    const error = cellError(await kernel().execute("const plain: number = 'x'"));
    assertTsError(error);
    assert.ok(!error.traceback.some((line) => line.startsWith('Hint:')), error.traceback.join('\n'));
  });
});

describe('forgotten await', () => {
  const kernel = useKernel();

  test("a method called on a move's promise (`x.to('cpu').matMul(x)`) is TS2339 on 'Promise<Tensor…>' and the hint says to add `await`", async () => {
    const source = "const m = tf.ones([2, 2]);\nm.to('cpu').matMul(m)";
    const error = cellError(await kernel().execute(source, {}, { timeoutMs: 60_000 }));
    const [problem] = assertTsError(error);
    assert.equal(problem?.code, 2339, error.evalue);
    assert.match(problem?.message ?? '', /Property 'matMul' does not exist on type 'Promise<Tensor/);
    const last = error.traceback.at(-1) ?? '';
    assert.match(last, /^Hint: this is a Promise .*add `await`/, error.traceback.join('\n'));
    // The call the cell wrote, not a stand-in.
    assert.ok(last.includes('(await m.to(…)).matMul(…)'), last);
  });
});
