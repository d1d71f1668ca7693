// Running cells: results, printed output, errors, execution counts and the abort queue.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertBusyThenIdle, evaluate, executeReply, iopubKinds, iopubOf, resultText, streams,
} from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { isIdle } from '../support/pending-request';
import { sleep } from '../support/time';

describe('executing cells', () => {
  const kernel = useKernel();

  test('`1 + 1` shows 2 as an execute_result numbered like its reply and execute_input', async () => {
    const exchange = await kernel().execute('1 + 1');
    assertBusyThenIdle(exchange);
    const reply = executeReply(exchange);
    assert.equal(reply.status, 'ok');
    assert.equal(resultText(exchange), '2');
    const [result] = iopubOf(exchange, 'execute_result');
    const [input] = iopubOf(exchange, 'execute_input');
    assert.equal(result?.execution_count, reply.execution_count);
    assert.equal(input?.execution_count, reply.execution_count);
  });

  test("`console.log('hi')` prints hi on stdout and shows no result", async () => {
    const exchange = await kernel().execute("console.log('hi')");
    assert.equal(executeReply(exchange).status, 'ok');
    assert.deepEqual(streams(exchange), [{ name: 'stdout', text: 'hi\n' }]);
    assert.equal(resultText(exchange), undefined);
  });

  test('stdout and stderr arrive in the order written, output after an await included, all before idle', async (t) => {
    const pending = kernel().startExecute([
      "console.log('one');",
      "console.error('two');",
      "console.log('three');",
      'await new Promise((r) => setTimeout(r, 20));',
      "console.log('after await');",
    ].join('\n'));
    const exchange = await pending.done();
    assert.deepEqual(streams(exchange), [
      { name: 'stdout', text: 'one\n' },
      { name: 'stderr', text: 'two\n' },
      { name: 'stdout', text: 'three\nafter await\n' },
    ]);
    await sleep(200);
    const idleSeq = exchange.iopub.find(isIdle)?.seq ?? 0;
    const late = pending.iopub.filter((m) => m.seq > idleSeq).map((m) => m.header.msg_type);
    assert.deepEqual(late, [], 'messages published for the cell after its idle are lost by clients');
    const lastStream = Math.max(...exchange.iopub.filter((m) => m.header.msg_type === 'stream').map((m) => m.seq));
    t.diagnostic(`last stream arrived ${lastStream < exchange.reply.seq ? 'before' : 'after'} the execute_reply`);
  });

  test('execute_input echoes the code with its execution count before any output', async () => {
    const code = "console.log('x')";
    const exchange = await kernel().execute(code);
    assert.deepEqual(iopubKinds(exchange), ['status:busy', 'execute_input', 'stream', 'status:idle']);
    const [input] = iopubOf(exchange, 'execute_input');
    assert.equal(input?.code, code);
    assert.equal(input?.execution_count, executeReply(exchange).execution_count);
  });

  test('top-level await works and the awaited cell shows its last value', async () => {
    assert.equal(await evaluate(kernel(), 'await new Promise((r) => setTimeout(r, 10));\n5'), '5');
  });

  test('variables declared with const, var and let are visible in the next cell', async () => {
    await evaluate(kernel(), 'const viaConst = 20;\nvar viaVar = 1;\nlet viaLet = 2;');
    assert.equal(await evaluate(kernel(), 'viaConst + viaVar + viaLet'), '23');
  });

  test('a cell ending in `undefined` shows no execute_result', async () => {
    const exchange = await kernel().execute('const nothing = 1;\nundefined');
    assert.equal(executeReply(exchange).status, 'ok');
    assert.deepEqual(iopubOf(exchange, 'execute_result'), []);
  });

  test("`throw new Error('boom')` shows Error: boom on iopub and the reply carries the same error", async () => {
    const exchange = await kernel().execute("throw new Error('boom')");
    assertBusyThenIdle(exchange);
    const errors = iopubOf(exchange, 'error');
    assert.equal(errors.length, 1, `one iopub error expected: ${iopubKinds(exchange).join(', ')}`);
    const [published] = errors;
    assert.equal(published?.ename, 'Error');
    assert.equal(published?.evalue, 'boom');
    assert.ok((published?.traceback.length ?? 0) > 0, 'traceback is empty');
    const reply = executeReply(exchange);
    assert.equal(reply.status, 'error');
    if (reply.status !== 'error') return;
    assert.deepEqual(
      { ename: reply.ename, evalue: reply.evalue, traceback: reply.traceback },
      { ename: published?.ename, evalue: published?.evalue, traceback: published?.traceback },
    );
    assert.deepEqual(iopubOf(exchange, 'execute_result'), []);
  });

  test('execution_count advances only for cells run with store_history', async () => {
    const first = executeReply(await kernel().execute('1'));
    const hidden = await kernel().execute('2', { store_history: false });
    assert.equal(executeReply(hidden).status, 'ok');
    assert.equal(resultText(hidden), '2');
    const next = executeReply(await kernel().execute('3'));
    assert.equal(next.execution_count, (first.execution_count ?? NaN) + 1);
  });

  test('a silent cell runs without execute_input or execute_result and does not advance the count', async () => {
    const before = executeReply(await kernel().execute('1'));
    const silent = await kernel().execute('globalThis.silentRan = true;\n7', { silent: true });
    assert.equal(executeReply(silent).status, 'ok');
    assert.deepEqual(iopubKinds(silent), ['status:busy', 'status:idle']);
    const after = await kernel().execute('globalThis.silentRan');
    assert.equal(resultText(after), 'true');
    assert.equal(executeReply(after).execution_count, (before.execution_count ?? NaN) + 1);
  });

  // The spec: silent "will not broadcast output on the IOPUB channel".
  test("a silent cell's console output is not broadcast on iopub", async () => {
    const silent = await kernel().execute("console.log('shh')", { silent: true });
    assert.deepEqual(iopubKinds(silent), ['status:busy', 'status:idle']);
  });

  test('with stop_on_error, a failing cell aborts the cells queued behind it and the next cell runs', async () => {
    const failing = kernel().startExecute("await new Promise((r) => setTimeout(r, 300));\nthrow new Error('first')");
    const queued = [kernel().startExecute('globalThis.abortedRan = true'), kernel().startExecute("'queued'")];
    assert.equal(executeReply(await failing.done()).status, 'error');
    for (const pending of queued) {
      const exchange = await pending.done();
      assert.equal(executeReply(exchange).status, 'aborted', `${String(pending.request.content['code'])} was not aborted`);
      assert.deepEqual(iopubOf(exchange, 'execute_result'), []);
    }
    assert.equal(await evaluate(kernel(), 'globalThis.abortedRan === undefined'), 'true');
  });

  test('with stop_on_error false, a failing cell does not abort the cells queued behind it', async () => {
    const failing = kernel().startExecute("await new Promise((r) => setTimeout(r, 300));\nthrow new Error('second')",
      { stop_on_error: false });
    const queued = kernel().startExecute('globalThis.notAborted = 6;\nglobalThis.notAborted * 7');
    assert.equal(executeReply(await failing.done()).status, 'error');
    const exchange = await queued.done();
    assert.equal(executeReply(exchange).status, 'ok');
    assert.equal(resultText(exchange), '42');
  });
});
