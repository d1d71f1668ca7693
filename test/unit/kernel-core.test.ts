// The kernel core without sockets: requests in, messages out, through an in-memory KernelIO
// and a scripted interpreter. Sockets and threads are covered by the protocol ring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecuteOutcome, Interpreter, OutputEvent } from '../../kernel/interpreter/interpreter';
import { makeHeader, newSession, type Message, type Outgoing } from '../../kernel/protocol/messages';
import { KernelCore } from '../../kernel/server/kernel-core';

interface Sent { channel: string; message: Outgoing }

/** Runs cells by name: `ok`, `fail`, `print`, `wait` (until release()), anything else is ok. */
class ScriptedInterpreter implements Interpreter {
  ran: string[] = [];
  private waiting: (() => void) | null = null;
  release(): void { this.waiting?.(); }
  async execute(code: string, _options: unknown, emit: (event: OutputEvent) => void): Promise<ExecuteOutcome> {
    this.ran.push(code);
    if (code === 'wait') await new Promise<void>((resolve) => { this.waiting = resolve; });
    if (code === 'print') emit({ type: 'stream', name: 'stdout', text: 'hi\n' });
    if (code === 'fail') return { status: 'error', ename: 'Error', evalue: 'boom', traceback: ['Error: boom'] };
    emit({ type: 'execute_result', data: { 'text/plain': `'${code}'` }, metadata: {} });
    return { status: 'ok' };
  }
  async finishCell() { return undefined; }
  async evaluate() { return { status: 'ok' as const, data: { 'text/plain': '1' }, metadata: {} }; }
  async complete() { return { matches: [], cursorStart: 0, cursorEnd: 0, metadata: {} }; }
  async inspect() { return { found: false, data: {} }; }
  async isComplete() { return { status: 'complete' as const }; }
}

function setup() {
  const sent: Sent[] = [];
  const interpreter = new ScriptedInterpreter();
  const control = { interrupts: 0, shutdowns: [] as boolean[] };
  const core = new KernelCore(
    { send: (channel, message) => sent.push({ channel, message }), publish: (message) => sent.push({ channel: 'iopub', message }) },
    interpreter,
    { interrupt: () => { control.interrupts++; }, shutdown: (restart) => { control.shutdowns.push(restart); } },
    newSession(),
    { version: '0.0.0-test', typescriptVersion: '0.0.0' },
  );
  const client = newSession('client');
  const request = (msgType: string, content: Message['content'] = {}): Message => (
    { ids: [Buffer.from('peer')], header: makeHeader(client, msgType), parent_header: {}, metadata: {}, content, buffers: [] });
  return { sent, interpreter, control, core, request };
}

/** Lets queued requests run: the core gives the event loop one turn before each queued shell request. */
const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
};
const about = (sent: Sent[], request: Message) => sent.filter((s) => (s.message.parent_header as { msg_id?: string }).msg_id === request.header.msg_id);
const shape = (list: Sent[]) => list.map(({ channel, message }) => `${channel}:${message.header.msg_type}${message.header.msg_type === 'status' ? `:${message.content['execution_state']}` : ''}`);

test('an execute is bracketed busy → input → output → reply → idle, all with its header as parent', async () => {
  const { sent, core, request } = setup();
  const execute = request('execute_request', { code: 'print' });
  core.receive('shell', execute);
  await settle();
  assert.deepEqual(shape(about(sent, execute)), ['iopub:status:busy', 'iopub:execute_input', 'iopub:stream', 'iopub:execute_result', 'shell:execute_reply', 'iopub:status:idle']);
  assert.equal(shape(sent).length, 6, 'nothing without a parent');
  const reply = sent.find((s) => s.message.header.msg_type === 'execute_reply')!.message;
  assert.deepEqual(reply.ids, [Buffer.from('peer')], 'the reply goes back to the sender');
  assert.deepEqual(reply.content, { status: 'ok', execution_count: 1, payload: [], user_expressions: {} });
});

test('execution_count advances only for cells that store history', async () => {
  const { sent, core, request } = setup();
  for (const content of [{ code: 'a' }, { code: 'b', store_history: false }, { code: 'c', silent: true }, { code: 'd' }] as Message['content'][]) core.receive('shell', request('execute_request', content));
  await settle();
  const counts = sent.filter((s) => s.message.header.msg_type === 'execute_reply').map((s) => s.message.content['execution_count']);
  assert.deepEqual(counts, [1, 1, 1, 2]);
  const inputs = sent.filter((s) => s.message.header.msg_type === 'execute_input').map((s) => s.message.content['code']);
  assert.deepEqual(inputs, ['a', 'b', 'd'], 'a silent cell publishes no execute_input');
  const results = sent.filter((s) => s.message.header.msg_type === 'execute_result').length;
  assert.equal(results, 3, 'a silent cell publishes no execute_result');
});

test('an error is published on iopub and repeated in the reply', async () => {
  const { sent, core, request } = setup();
  core.receive('shell', request('execute_request', { code: 'fail' }));
  await settle();
  const error = sent.find((s) => s.message.header.msg_type === 'error')!.message.content;
  const reply = sent.find((s) => s.message.header.msg_type === 'execute_reply')!.message.content;
  assert.deepEqual(error, { ename: 'Error', evalue: 'boom', traceback: ['Error: boom'] });
  assert.deepEqual(reply, { status: 'error', execution_count: 1, ...error });
});

test('stop_on_error aborts executes queued behind a failure, but not other requests or later ones', async () => {
  const { sent, core, request, interpreter } = setup();
  core.receive('shell', request('execute_request', { code: 'wait' }));
  core.receive('shell', request('execute_request', { code: 'fail' }));
  core.receive('shell', request('execute_request', { code: 'queued-1' }));
  core.receive('shell', request('kernel_info_request'));
  core.receive('shell', request('execute_request', { code: 'queued-2' }));
  await settle();
  interpreter.release();
  await settle();
  await settle();
  const replies = sent.filter((s) => s.channel === 'shell').map((s) => `${s.message.header.msg_type}:${s.message.content['status']}`);
  assert.deepEqual(replies, ['execute_reply:ok', 'execute_reply:error', 'execute_reply:aborted', 'execute_reply:aborted', 'kernel_info_reply:ok']);
  assert.deepEqual(interpreter.ran, ['wait', 'fail']);
  core.receive('shell', request('execute_request', { code: 'after' }));
  await settle();
  assert.deepEqual(interpreter.ran, ['wait', 'fail', 'after']);
});

test('stop_on_error false keeps queued executes', async () => {
  const { core, request, interpreter } = setup();
  core.receive('shell', request('execute_request', { code: 'fail', stop_on_error: false }));
  core.receive('shell', request('execute_request', { code: 'next' }));
  await settle();
  await settle();
  assert.deepEqual(interpreter.ran, ['fail', 'next']);
});

test('control requests are answered while a shell cell is still running', async () => {
  const { sent, core, request, interpreter, control } = setup();
  core.receive('shell', request('execute_request', { code: 'wait' }));
  await settle();
  core.receive('control', request('kernel_info_request'));
  core.receive('shell', request('interrupt_request'));
  await settle();
  assert.deepEqual(sent.filter((s) => s.channel !== 'iopub').map((s) => `${s.channel}:${s.message.header.msg_type}`), ['control:kernel_info_reply', 'shell:interrupt_reply']);
  assert.equal(control.interrupts, 1);
  interpreter.release();
});

test('an interrupt its client sent before the running cell\'s request stops nothing; one sent after, or unordered, stops the cell', async () => {
  const { core, request, interpreter, control } = setup();
  const stamped = (message: Message, date: string, session = message.header.session): Message => (
    { ...message, header: { ...message.header, date, session } });
  core.receive('shell', stamped(request('execute_request', { code: 'wait' }), '2026-12-02T10:00:00.000500Z'));
  await settle();
  // One client's dates, microseconds apart: the interrupt came first, so it was for an earlier cell.
  core.receive('control', stamped(request('interrupt_request'), '2026-12-02T10:00:00.000400Z'));
  await settle();
  assert.equal(control.interrupts, 0, 'an interrupt sent before the running cell was asked for stopped it');
  core.receive('control', stamped(request('interrupt_request'), '2026-12-02T10:00:00.000600Z'));
  await settle();
  assert.equal(control.interrupts, 1, 'an interrupt sent after the running cell was asked for did not stop it');
  // Milliseconds only, as VS Code stamps: in one millisecond the order is unknown, so it stops the cell.
  core.receive('control', stamped(request('interrupt_request'), '2026-12-02T10:00:00.000Z'));
  // Another session (JupyterLab's server sends interrupts from its own) has another clock: no order.
  core.receive('control', stamped(request('interrupt_request'), '2026-12-02T09:00:00.000Z', 'another-client'));
  await settle();
  assert.equal(control.interrupts, 3);
  interpreter.release();
});

test('an unknown comm target is answered with comm_close on iopub; comm_info lists no comms', async () => {
  const { sent, core, request } = setup();
  core.receive('shell', request('comm_open', { comm_id: 'c1', target_name: 'nope', data: {} }));
  core.receive('shell', request('comm_info_request', {}));
  await settle();
  assert.deepEqual(sent.find((s) => s.message.header.msg_type === 'comm_close')!.message.content, { comm_id: 'c1', data: {} });
  assert.deepEqual(sent.find((s) => s.message.header.msg_type === 'comm_info_reply')!.message.content, { status: 'ok', comms: {} });
});

test('shutdown replies, broadcasts the reply, goes idle, then asks the process to exit', async () => {
  const { sent, core, request, control } = setup();
  const shutdown = request('shutdown_request', { restart: true });
  core.receive('control', shutdown);
  await settle();
  assert.deepEqual(shape(about(sent, shutdown)), ['iopub:status:busy', 'control:shutdown_reply', 'iopub:shutdown_reply', 'iopub:status:idle']);
  assert.deepEqual(control.shutdowns, [true]);
});

test('kernel_info describes a TypeScript kernel on protocol 5.3', async () => {
  const { sent, core, request } = setup();
  core.receive('control', request('kernel_info_request'));
  await settle();
  const info = sent.find((s) => s.message.header.msg_type === 'kernel_info_reply')!.message.content;
  assert.equal(info['protocol_version'], '5.3');
  assert.equal(info['implementation'], 'tsgpu');
  assert.deepEqual(info['language_info'], { name: 'typescript', version: '0.0.0', mimetype: 'text/typescript', file_extension: '.ts', codemirror_mode: 'typescript', pygments_lexer: 'typescript' });
});

test('an unknown message type is ignored without a reply or status', async () => {
  const { sent, core, request } = setup();
  core.receive('shell', request('no_such_request'));
  await settle();
  assert.deepEqual(sent, []);
});
