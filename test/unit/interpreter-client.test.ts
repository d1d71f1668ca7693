// The worker's side of the thread link: a cell's closing outputs, which the main thread sends
// right after the cell's execute is answered (host.ts), reach the handler's finishCell whether they
// arrive before it asks or after, in the order they were sent, and no second call crosses.
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { test } from 'node:test';
import type { OutputEvent } from '../../kernel/interpreter/interpreter';
import type { ToMain, ToWorker } from '../../kernel/interpreter/thread-link';
import { InterpreterClient } from '../../kernel/server/interpreter-client';

const OPTIONS = { silent: false, storeHistory: true, allowStdin: false, executionCount: 7 };
const text = (name: string): OutputEvent => ({ type: 'stream', name: 'stdout', text: name });

/** A main thread played by the test: the calls it gets, and a way to answer. */
function link(): { client: InterpreterClient; calls: ToMain[]; main: MessagePort; nextCall: () => Promise<Extract<ToMain, { kind: 'call' }>>; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  const calls: ToMain[] = [];
  const waiting: ((message: Extract<ToMain, { kind: 'call' }>) => void)[] = [];
  port2.on('message', (message: ToMain) => {
    calls.push(message);
    if (message.kind === 'call') waiting.shift()?.(message);
  });
  const client = new InterpreterClient(port1, () => assert.fail('no output is stray here'), () => Promise.reject(new Error('no input')));
  return {
    client, calls, main: port2,
    nextCall: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => { port1.close(); port2.close(); },
  };
}

const send = (port: MessagePort, message: ToWorker): void => port.postMessage(message);

test('closing outputs sent with the outcome reach finishCell in order, though they arrive before it asks', async () => {
  const { client, calls, main, nextCall, close } = link();
  try {
    const shown: string[] = [];
    const called = nextCall();
    const outcome = client.execute('1', OPTIONS, (event) => shown.push(`execute ${String(event.type === 'stream' ? event.text : event.type)}`));
    const { id } = await called;
    send(main, { kind: 'output', callId: id, event: text('cell') });
    send(main, { kind: 'result', id, value: { status: 'ok' } });
    send(main, { kind: 'output', callId: id, event: text('report') });
    send(main, { kind: 'output', callId: id, event: text('warning') });
    send(main, { kind: 'finished', id });
    assert.deepEqual(await outcome, { status: 'ok' });
    // Everything the main thread sent has arrived by the time this timer fires.
    await new Promise((resolve) => setTimeout(resolve, 20));
    shown.push('error published');
    await client.finishCell(7, (event) => shown.push(`finish ${String(event.type === 'stream' ? event.text : event.type)}`));
    assert.deepEqual(shown, ['execute cell', 'error published', 'finish report', 'finish warning']);
    assert.equal(calls.filter((message) => message.kind === 'call').length, 1, 'finishCell made no call of its own');
  } finally {
    close();
  }
});

test('finishCell asked before the closing outputs come waits for `finished`; a failed closing rejects', async () => {
  const { client, main, nextCall, close } = link();
  try {
    for (const failure of [undefined, 'Error: the report failed']) {
      const called = nextCall();
      const outcome = client.execute('1', OPTIONS, () => undefined);
      const { id } = await called;
      send(main, { kind: 'result', id, value: { status: 'ok' } });
      await outcome;
      const shown: string[] = [];
      let settled = false;
      const finishing = client.finishCell(7, (event) => shown.push(String(event.type === 'stream' ? event.text : event.type)));
      void finishing.then(() => { settled = true; }, () => { settled = true; });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(settled, false, 'not over before the main thread says so');
      send(main, { kind: 'output', callId: id, event: text('report') });
      send(main, failure === undefined ? { kind: 'finished', id } : { kind: 'finished', id, failure });
      if (failure === undefined) await finishing;
      else await assert.rejects(finishing, /the report failed/);
      assert.deepEqual(shown, ['report']);
    }
  } finally {
    close();
  }
});

test('finishCell for a cell whose execute was not answered here is a call to the main thread', async () => {
  const { client, main, nextCall, close } = link();
  try {
    const called = nextCall();
    const finishing = client.finishCell(3, () => undefined);
    const call = await called;
    assert.equal(call.method, 'finishCell');
    assert.deepEqual(call.args, [3]);
    send(main, { kind: 'result', id: call.id, value: undefined });
    await finishing;
  } finally {
    close();
  }
});
