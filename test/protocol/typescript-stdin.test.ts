// prompt() in a cell: the kernel asks the notebook for a line of input over the stdin channel.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cellError, executeReply, iopubOf, resultText } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { KernelClient } from '../support/kernel-client';
import { contentOf } from '../support/message-schema';
import { sleep } from '../support/time';

describe('TypeScript prompt() over stdin', () => {
  const kernel = useKernel();

  test("`await prompt('Name? ')` asks the client on stdin and the answer flows into the cell's result", async () => {
    const pending = kernel().startExecute("const answer = await prompt('Name? ');\n`hello ${answer}`",
      { allow_stdin: true }, { timeoutMs: 30_000 });
    const request = await pending.inputRequest();
    assert.equal(request.channel, 'stdin');
    assert.deepEqual(contentOf(request, 'input_request'), { prompt: 'Name? ', password: false });
    assert.deepEqual(request.parent_header, pending.request.header, 'input_request parent is the execute_request');
    await kernel().answerInput(request, 'Ada');
    const exchange = await pending.done();
    assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
    assert.equal(resultText(exchange), "'hello Ada'");
    assert.equal(pending.inputRequests.length, 1);
  });

  test('the answer is kept in the variable for later cells', async () => {
    const pending = kernel().startExecute("const city = await prompt('City? ');", { allow_stdin: true });
    await kernel().answerInput(await pending.inputRequest(), 'Lisbon');
    assert.equal(executeReply(await pending.done()).status, 'ok');
    const exchange = await kernel().execute('city.toUpperCase()');
    assert.equal(resultText(exchange), "'LISBON'");
  });

  test("`prompt('pw', { password: true })` sets password true and the value reaches the cell", async () => {
    const pending = kernel().startExecute("const pw = await prompt('pw', { password: true });\npw.length",
      { allow_stdin: true });
    const request = await pending.inputRequest();
    assert.deepEqual(contentOf(request, 'input_request'), { prompt: 'pw', password: true });
    await kernel().answerInput(request, 'secret');
    assert.equal(resultText(await pending.done()), '6');
  });

  test('two prompts in one cell are asked one after the other', async () => {
    const pending = kernel().startExecute(
      "const first = await prompt('first? ');\nconst second = await prompt('second? ');\n`${first}+${second}`",
      { allow_stdin: true });
    const one = await pending.inputRequest(0);
    assert.equal(contentOf(one, 'input_request').prompt, 'first? ');
    await sleep(100);
    assert.equal(pending.inputRequests.length, 1, 'the second prompt came before the first was answered');
    await kernel().answerInput(one, 'a');
    const two = await pending.inputRequest(1);
    assert.equal(contentOf(two, 'input_request').prompt, 'second? ');
    await kernel().answerInput(two, 'b');
    assert.equal(resultText(await pending.done()), "'a+b'");
  });

  test('with allow_stdin false, prompt() throws an Error saying the client does not accept input', async () => {
    const pending = kernel().startExecute("const never = await prompt('x? ');", { allow_stdin: false });
    const error = cellError(await pending.done());
    assert.equal(error.ename, 'Error');
    assert.match(error.evalue, /does not accept input/);
    assert.match(error.evalue, /allow_stdin/);
    assert.deepEqual(pending.inputRequests, [], 'no input_request may go to a client that does not accept input');
  });

  test('with allow_stdin false, the error can be caught in the cell', async () => {
    const exchange = await kernel().execute(
      "let fallback = 'default';\ntry { fallback = await prompt('x? ') } catch (e) { fallback = (e as Error).message }\nfallback");
    assert.equal(executeReply(exchange).status, 'ok');
    assert.match(resultText(exchange) ?? '', /does not accept input/);
  });

  test('the input_request goes only to the client whose cell asked, not to another connected client', async (t) => {
    const other = new KernelClient(kernel().info);
    t.after(() => other.close());
    await other.waitReady();
    const pending = kernel().startExecute("const who = await prompt('who? ');\nwho", { allow_stdin: true });
    const request = await pending.inputRequest();
    await sleep(100);
    assert.deepEqual(other.received.filter((m) => m.channel === 'stdin'), [], 'the other client got stdin messages');
    await kernel().answerInput(request, 'me');
    assert.equal(resultText(await pending.done()), "'me'");
    assert.deepEqual(other.problems, []);
    assert.deepEqual(iopubOf(await pending.done(), 'error'), []);
  });
});
