// JupyterLab's own client library, @jupyterlab/services 7, against Debian's jupyter_server 1.23
// (the server JupyterLab runs on; binary websocket protocol), the way a JupyterLab notebook tab
// uses the kernel: a session with kernel tsgpu, notebook 01's code cells in order (cells tagged
// raises-exception must fail, every other cell must succeed), then Kernel > Interrupt on a cell
// that never ends, Kernel > Restart (state gone, execution count back to 1), and shutdown.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Kernel, KernelAPI, KernelManager, KernelMessage, KernelSpecAPI, ServerConnection, Session, SessionManager } from '@jupyterlab/services';
import { codeCells, firstLine, startEndlessCell, stripAnsi, tutorial, withTimeout } from './e2e-helpers';
import { CLI, isolatedJupyter, NotebookServer, PYTHON, startServer, stopNotebook } from './notebook-server';

// Node 20 has no global WebSocket; `ws` ships no types, and the library only needs its constructor.
const WebSocketImpl = require('ws') as ServerConnection.ISettings['WebSocket'];

const NOTEBOOK = '01-cpu-gpu-switching.ipynb';
/** One cell's deadline: lavapipe compiles shaders slowly on two shared cores. */
const CELL_TIMEOUT_MS = 120_000;

let tmp = '';
let server: NotebookServer | undefined;
let kernelManager: KernelManager | undefined;
let sessionManager: SessionManager | undefined;
let session: Session.ISessionConnection | undefined;
const statuses: Kernel.Status[] = [];

before(async () => {
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
  const jupyter = isolatedJupyter('services-client');
  tmp = jupyter.tmp;
  server = await startServer(jupyter.tmp, jupyter.env, 'jupyter_server');
  // The notebook document the session belongs to, as when JupyterLab opens it.
  fs.copyFileSync(tutorial(NOTEBOOK), path.join(server.root, NOTEBOOK));
});

after(async () => {
  session?.dispose();
  sessionManager?.dispose();
  kernelManager?.dispose();
  if (server !== undefined) await stopNotebook(server);
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

function settings(): ServerConnection.ISettings {
  assert.ok(server !== undefined, 'the server did not start');
  return ServerConnection.makeSettings({
    baseUrl: server.url, wsUrl: server.url.replace(/^http/, 'ws'), token: server.token, appendToken: true, WebSocket: WebSocketImpl,
  });
}

function kernel(): Kernel.IKernelConnection {
  const connection = session?.kernel;
  assert.ok(connection, 'no session kernel (the session test did not start one)');
  return connection;
}

interface Executed {
  reply: KernelMessage.IExecuteReplyMsg;
  iopub: KernelMessage.IIOPubMessage[];
}

/** Runs code as a notebook cell does; resolves once the reply and iopub idle have both arrived. */
async function execute(code: string, stopOnError = true, timeoutMs = CELL_TIMEOUT_MS): Promise<Executed> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel().requestExecute({ code, stop_on_error: stopOnError, store_history: true, silent: false, allow_stdin: false });
  future.onIOPub = (message) => { iopub.push(message); };
  const reply = await withTimeout(future.done, timeoutMs, `execute ${firstLine(code)}`);
  return { reply, iopub };
}

function describeExecuted({ reply, iopub }: Executed): string {
  const content = reply.content as unknown as Record<string, unknown>;
  const lines = [`reply ${String(content['status'])} #${String(content['execution_count'])}`];
  for (const message of iopub) {
    const c = message.content as Record<string, unknown>;
    if (message.header.msg_type === 'error') {
      lines.push(`error ${String(c['ename'])}: ${String(c['evalue'])}\n${((c['traceback'] as string[] | undefined) ?? []).map(stripAnsi).join('\n')}`);
    } else if (message.header.msg_type === 'stream') lines.push(`stream/${String(c['name'])}: ${String(c['text'])}`);
    else if (message.header.msg_type === 'status') lines.push(`status ${String(c['execution_state'])}`);
    else lines.push(message.header.msg_type);
  }
  return lines.join('\n');
}

function resultText({ iopub }: Executed): string | undefined {
  const result = iopub.find((message) => message.header.msg_type === 'execute_result');
  return (result?.content as { data?: Record<string, unknown> } | undefined)?.data?.['text/plain'] as string | undefined;
}

test('jupyter_server serves the tsgpu kernelspec', { timeout: 30_000 }, async () => {
  const specs = await withTimeout(KernelSpecAPI.getSpecs(settings()), 20_000, 'GET /api/kernelspecs');
  const spec = specs.kernelspecs['tsgpu'];
  assert.ok(spec, `no tsgpu among ${Object.keys(specs.kernelspecs).join(', ')}`);
  assert.equal(spec.display_name, 'TypeScript (tsgpu)');
  assert.equal(spec.language, 'typescript');
});

test(`a session runs ${NOTEBOOK}'s code cells in order; only the cells tagged raises-exception fail`, { timeout: 600_000 }, async (t) => {
  kernelManager = new KernelManager({ serverSettings: settings() });
  sessionManager = new SessionManager({ kernelManager, serverSettings: settings() });
  await withTimeout(sessionManager.ready, 20_000, 'SessionManager.ready');
  session = await withTimeout(sessionManager.startNew({ path: NOTEBOOK, name: NOTEBOOK, type: 'notebook', kernel: { name: 'tsgpu' } }),
    60_000, 'POST /api/sessions');
  kernel().statusChanged.connect((_, status) => { statuses.push(status); });
  assert.equal(kernel().name, 'tsgpu');
  const info = await withTimeout(kernel().info, 60_000, 'kernel_info over the websocket');
  assert.equal(info.language_info.name, 'typescript', `kernel_info: ${JSON.stringify(info)}`);

  const cells = codeCells(tutorial(NOTEBOOK));
  assert.ok(cells.some((cell) => cell.raises), `${NOTEBOOK} has no cell tagged raises-exception`);
  const problems: string[] = [];
  let reports = 0;
  let previous = 0;
  for (const cell of cells) {
    // JupyterLab does not stop a run at a cell that is expected to raise.
    const executed = await execute(cell.source, !cell.raises);
    const where = `code cell ${cell.number} ${firstLine(cell.source)}`;
    const { status } = executed.reply.content;
    const errors = executed.iopub.filter((message) => message.header.msg_type === 'error');
    if (cell.raises && (status !== 'error' || errors.length !== 1)) problems.push(`${where} should fail with one error:\n${describeExecuted(executed)}`);
    if (!cell.raises && status !== 'ok') problems.push(`${where} failed:\n${describeExecuted(executed)}`);
    const count = executed.reply.content.execution_count;
    if (typeof count !== 'number' || count <= previous) problems.push(`${where}: execution_count ${String(count)} after ${previous}`);
    else previous = count;
    const states = executed.iopub.filter((message) => message.header.msg_type === 'status')
      .map((message) => (message.content as { execution_state: string }).execution_state);
    if (states[0] !== 'busy' || states[states.length - 1] !== 'idle') problems.push(`${where}: status ${states.join(',')}`);
    reports += executed.iopub.filter((message) => message.header.msg_type === 'display_data'
      && (message.content as { metadata?: Record<string, unknown> }).metadata?.['tsgpu'] !== undefined).length;
  }
  assert.deepEqual(problems, [], `${NOTEBOOK} through @jupyterlab/services`);
  assert.ok(reports > 0, 'no device report (display_data with metadata.tsgpu) arrived over the websocket');
  const protocol = (kernel() as unknown as { _selectedProtocol?: string })._selectedProtocol;
  t.diagnostic(`${cells.length} code cells, ${reports} reports; websocket subprotocol ${JSON.stringify(protocol)}`);
});

test('Interrupt stops `while (true) {}` with an Interrupted error; the session keeps its state', { timeout: 120_000 }, async () => {
  await execute("const keptAcrossInterrupt = 'kept';");
  const { future, iopub } = await startEndlessCell(kernel());
  // POST /api/kernels/<id>/interrupt: the server sends interrupt_request on control (interrupt_mode "message").
  await withTimeout(kernel().interrupt(), 20_000, 'POST interrupt');
  const reply = await withTimeout(future.done, 30_000, 'the execute_reply of the interrupted cell');
  const executed = { reply, iopub };
  assert.equal(reply.content.status, 'error', describeExecuted(executed));
  assert.equal((reply.content as KernelMessage.IReplyErrorContent).ename, 'Interrupted', describeExecuted(executed));
  const later = await execute('keptAcrossInterrupt');
  assert.equal(later.reply.content.status, 'ok', describeExecuted(later));
  assert.equal(resultText(later), "'kept'", 'state survives the interrupt');
});

test('Restart clears the state and the execution count', { timeout: 120_000 }, async () => {
  const earlier = await execute('keptAcrossInterrupt');
  assert.equal(resultText(earlier), "'kept'");
  // POST /api/kernels/<id>/restart.
  await withTimeout(kernel().restart(), 60_000, 'POST restart');
  await withTimeout(kernel().info, 60_000, 'kernel_info after the restart');
  assert.ok(statuses.includes('restarting'), `statuses seen: ${[...new Set(statuses)].join(', ')}`);
  const executed = await execute('keptAcrossInterrupt');
  assert.equal(executed.reply.content.status, 'error', `the variable survived the restart:\n${describeExecuted(executed)}`);
  const error = executed.reply.content as KernelMessage.IReplyErrorContent;
  assert.equal(error.ename, 'TSError', describeExecuted(executed));
  assert.match(error.evalue, /Cannot find name 'keptAcrossInterrupt'/, describeExecuted(executed));
  assert.equal(executed.reply.content.execution_count, 1, 'the execution count starts again at 1');
  const next = await execute('1 + 1');
  assert.equal(next.reply.content.execution_count, 2);
  assert.equal(resultText(next), '2');
});

test('Shutdown ends the session and its kernel', { timeout: 60_000 }, async () => {
  assert.ok(session !== undefined, 'no session');
  const id = kernel().id;
  await withTimeout(session.shutdown(), 30_000, 'DELETE /api/sessions');
  const running = await withTimeout(KernelAPI.listRunning(settings()), 20_000, 'GET /api/kernels');
  assert.deepEqual(running.map((model) => model.id).filter((running) => running === id), [], 'the kernel is no longer listed');
  session = undefined;
  assert.ok(server !== undefined);
  const leftovers = await stopNotebook(server);
  server = undefined;
  assert.deepEqual(leftovers, [], 'no kernel process of this server survives it');
});
