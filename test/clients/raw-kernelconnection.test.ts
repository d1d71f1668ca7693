// VS Code style, no Jupyter server: launch the kernel from its installed kernelspec's argv with a
// connection file written here, then drive it with @jupyterlab/services' KernelConnection over
// the raw ZeroMQ sockets through a WebSocket-like adapter (test/support/raw-zmq-socket.ts), as
// vscode-jupyter does. Notebook 02's code cells run in order; input() goes over stdin; interrupt
// and shutdown are control messages (KernelConnection's interrupt()/shutdown() would use REST).
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Kernel, KernelConnection, KernelMessage, ServerConnection } from '@jupyterlab/services';
import { writeConnectionFile } from '../support/connection-file';
import { isRunning } from '../support/kernel-process';
import { identitySerializer, RawZmqLink, rawWebSocketClass } from '../support/raw-zmq-socket';
import { codeCells, firstLine, startEndlessCell, stripAnsi, tutorial, withTimeout } from './e2e-helpers';
import { CLI, isolatedJupyter } from './notebook-server';

const NOTEBOOK = '02-transfer-cost.ipynb';
const CELL_TIMEOUT_MS = 120_000;

let tmp = '';
let child: ChildProcess | undefined;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
let kernelOutput = '';
let link: RawZmqLink | undefined;
let connection: KernelConnection | undefined;

before(async () => {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
  const jupyter = isolatedJupyter('raw-kernelconnection');
  tmp = jupyter.tmp;
  const spec = JSON.parse(fs.readFileSync(path.join(jupyter.specDir, 'kernel.json'), 'utf8')) as { argv: string[]; env?: Record<string, string> };
  assert.ok(Array.isArray(spec.argv) && spec.argv.includes('{connection_file}'), `kernelspec argv ${JSON.stringify(spec.argv)}`);
  // The notebook's folder is the kernel's working directory, as VS Code starts it.
  const workDir = path.join(tmp, 'notebooks');
  fs.copyFileSync(tutorial(NOTEBOOK), path.join(workDir, NOTEBOOK));
  const { file, info } = await writeConnectionFile(path.join(tmp, 'runtime'));
  const [command, ...args] = spec.argv.map((arg) => arg.replace('{connection_file}', file));
  assert.ok(command !== undefined && path.isAbsolute(command), `argv[0] is not an absolute path: ${String(command)}`);
  const launched = spawn(command, args, { cwd: workDir, env: { ...jupyter.env, ...(spec.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = launched;
  const append = (chunk: Buffer): void => { kernelOutput = (kernelOutput + chunk.toString()).slice(-32 * 1024); };
  launched.stdout.on('data', append);
  launched.stderr.on('data', append);
  exited = new Promise((resolve) => launched.on('exit', (code, signal) => resolve({ code, signal })));
  link = new RawZmqLink(info);
  await link.waitReady(60_000, () => (launched.exitCode ?? launched.signalCode) === null ? null : String(launched.exitCode ?? launched.signalCode));
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://raw-kernel.invalid/', wsUrl: 'ws://raw-kernel.invalid/', token: '',
    WebSocket: rawWebSocketClass(link) as unknown as ServerConnection.ISettings['WebSocket'],
    serializer: identitySerializer as unknown as ServerConnection.ISettings['serializer'],
    // There is no server: any REST call is a bug in the test.
    fetch: () => Promise.reject(new Error('no REST API in raw ZeroMQ mode')),
  });
  connection = new KernelConnection({ model: { id: randomUUID(), name: 'tsgpu' }, serverSettings: settings, handleComms: true });
});

after(async () => {
  connection?.dispose();
  link?.close();
  if (child?.pid !== undefined && isRunning(child.pid)) {
    child.kill('SIGKILL');
    if (exited !== undefined) await withTimeout(exited, 5000, 'the killed kernel to exit').catch(() => undefined);
  }
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

function kernel(): Kernel.IKernelConnection {
  assert.ok(connection !== undefined, 'no KernelConnection (the kernel did not start)');
  return connection;
}

function context(): string {
  return kernelOutput.trim() === '' ? '' : `\n--- kernel output (tail) ---\n${kernelOutput.slice(-2000)}`;
}

interface Executed {
  reply: KernelMessage.IExecuteReplyMsg;
  iopub: KernelMessage.IIOPubMessage[];
}

async function execute(code: string, options: { stopOnError?: boolean; allowStdin?: boolean; onStdin?: (msg: KernelMessage.IStdinMessage) => void } = {}): Promise<Executed> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel().requestExecute({ code, stop_on_error: options.stopOnError ?? true, store_history: true, silent: false,
    allow_stdin: options.allowStdin ?? false });
  future.onIOPub = (message) => { iopub.push(message); };
  if (options.onStdin !== undefined) future.onStdin = options.onStdin;
  const reply = await withTimeout(future.done, CELL_TIMEOUT_MS, `execute ${firstLine(code)}${context()}`);
  return { reply, iopub };
}

function describeExecuted({ reply, iopub }: Executed): string {
  const lines = [`reply ${reply.content.status} #${String(reply.content.execution_count)}`];
  for (const message of iopub) {
    const c = message.content as Record<string, unknown>;
    if (message.header.msg_type === 'error') {
      lines.push(`error ${String(c['ename'])}: ${String(c['evalue'])}\n${((c['traceback'] as string[] | undefined) ?? []).map(stripAnsi).join('\n')}`);
    } else if (message.header.msg_type === 'stream') lines.push(`stream/${String(c['name'])}: ${String(c['text'])}`);
    else lines.push(message.header.msg_type);
  }
  return lines.join('\n') + context();
}

function resultText({ iopub }: Executed): string | undefined {
  const result = iopub.find((message) => message.header.msg_type === 'execute_result');
  return (result?.content as { data?: Record<string, unknown> } | undefined)?.data?.['text/plain'] as string | undefined;
}

/** Sends a control message through KernelConnection and waits for its reply. */
async function control(msgType: 'interrupt_request' | 'shutdown_request', content: Record<string, unknown>): Promise<KernelMessage.IControlMessage> {
  const message = KernelMessage.createMessage({ msgType, channel: 'control', session: kernel().clientId, content } as never) as unknown as KernelMessage.IControlMessage;
  return withTimeout(kernel().sendControlMessage(message, true, true).done, 20_000, `${msgType}'s reply${context()}`);
}

test('KernelConnection over raw ZeroMQ: kernel_info', { timeout: 60_000 }, async () => {
  const info = await withTimeout(kernel().info, 30_000, `kernel.info${context()}`);
  assert.equal(info.language_info.name, 'typescript', JSON.stringify(info));
  assert.match(info.protocol_version, /^5\./);
  assert.equal(kernel().connectionStatus, 'connected');
});

test(`${NOTEBOOK}'s code cells in order; only the cells tagged raises-exception fail; reports arrive`, { timeout: 600_000 }, async (t) => {
  const cells = codeCells(tutorial(NOTEBOOK));
  const problems: string[] = [];
  let reports = 0;
  let previous = 0;
  for (const cell of cells) {
    const executed = await execute(cell.source, { stopOnError: !cell.raises });
    const where = `code cell ${cell.number} ${firstLine(cell.source)}`;
    const errors = executed.iopub.filter((message) => message.header.msg_type === 'error');
    if (cell.raises && (executed.reply.content.status !== 'error' || errors.length !== 1)) problems.push(`${where} should fail:\n${describeExecuted(executed)}`);
    if (!cell.raises && executed.reply.content.status !== 'ok') problems.push(`${where} failed:\n${describeExecuted(executed)}`);
    const count = executed.reply.content.execution_count;
    if (typeof count !== 'number' || count <= previous) problems.push(`${where}: execution_count ${String(count)} after ${previous}`);
    else previous = count;
    reports += executed.iopub.filter((message) => message.header.msg_type === 'display_data'
      && (message.content as { metadata?: Record<string, unknown> }).metadata?.['tsgpu'] !== undefined).length;
  }
  assert.deepEqual(problems, [], `${NOTEBOOK} through KernelConnection over raw ZeroMQ`);
  assert.ok(reports > 0, 'no device report (display_data with metadata.tsgpu) arrived');
  t.diagnostic(`${cells.length} code cells, ${reports} reports`);
});

test('prompt() asks over stdin and KernelConnection answers with sendInputReply', { timeout: 60_000 }, async () => {
  const prompts: string[] = [];
  const executed = await execute("const answer = await prompt('Name? ');\nanswer", {
    allowStdin: true,
    onStdin: (message) => {
      if (message.header.msg_type !== 'input_request') return;
      prompts.push((message.content as KernelMessage.IInputRequestMsg['content']).prompt);
      kernel().sendInputReply({ status: 'ok', value: 'Ada' }, message.header as KernelMessage.IInputReplyMsg['parent_header']);
    },
  });
  assert.deepEqual(prompts, ['Name? '], describeExecuted(executed));
  assert.equal(executed.reply.content.status, 'ok', describeExecuted(executed));
  assert.equal(resultText(executed), "'Ada'");
});

test('interrupt_request on control stops `while (true) {}` with an Interrupted error; state survives', { timeout: 60_000 }, async () => {
  const { future, iopub } = await startEndlessCell(kernel(), context());
  const interruptReply = await control('interrupt_request', {});
  assert.equal((interruptReply.content as { status?: unknown }).status, 'ok');
  const reply = await withTimeout(future.done, 30_000, `the execute_reply of the interrupted cell${context()}`);
  assert.equal(reply.content.status, 'error', describeExecuted({ reply, iopub }));
  assert.equal((reply.content as KernelMessage.IReplyErrorContent).ename, 'Interrupted', describeExecuted({ reply, iopub }));
  const later = await execute('answer');
  assert.equal(resultText(later), "'Ada'", `state survives the interrupt:\n${describeExecuted(later)}`);
});

test('shutdown_request on control: a reply, then the kernel process exits 0; every message was valid', { timeout: 60_000 }, async () => {
  assert.ok(child !== undefined && exited !== undefined && link !== undefined);
  const reply = await control('shutdown_request', { restart: false });
  assert.equal((reply.content as { status?: unknown }).status, 'ok');
  assert.equal((reply.content as { restart?: unknown }).restart, false);
  const exit = await withTimeout(exited, 10_000, `the kernel process to exit after shutdown_request${context()}`);
  assert.deepEqual(exit, { code: 0, signal: null }, context());
  assert.deepEqual(link.problems, [], 'the kernel sent unreadable, badly signed or spec-invalid messages');
});
