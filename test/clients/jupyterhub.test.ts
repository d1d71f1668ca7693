// tsgpu served to several users through JupyterHub (Debian's jupyterhub 3.0, configurable-http-proxy
// from npm, a local spawner, a test authenticator; all on 127.0.0.1). Each user's own server
// starts and finds the kernelspec installed once for everyone; a user opens a tsgpu kernel through
// the hub's API with her own token and runs notebook 01 over the hub's websocket with
// @jupyterlab/services, as JupyterLab does; another user's token is refused for that kernel, over
// REST and over the websocket.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Kernel, KernelAPI, KernelManager, KernelMessage, KernelSpecAPI, ServerConnection } from '@jupyterlab/services';
import { codeCells, firstLine, stripAnsi, tutorial, withTimeout } from './e2e-helpers';
import { Hub, JUPYTERHUB, proxyScript, SINGLEUSER, startHub, startUserServer, stopHub, userToken } from './hub-server';
import { CLI } from './notebook-server';

// Node 20 has no global WebSocket; `ws` ships no types, and the library only needs its constructor.
const WebSocketImpl = require('ws') as ServerConnection.ISettings['WebSocket'];
type RawSocket = { on(event: string, listener: (...args: unknown[]) => void): void; close(): void; terminate(): void };
const RawWebSocket = require('ws') as new (url: string, options: { headers: Record<string, string> }) => RawSocket;

const NOTEBOOK = '01-cpu-gpu-switching.ipynb';
const USERS = ['alice', 'bob'] as const;
/** One cell's deadline: lavapipe compiles shaders slowly on two shared cores. */
const CELL_TIMEOUT_MS = 120_000;

let hub: Hub | undefined;
const tokens = new Map<string, string>();
const serverPids = new Map<string, number>();
let kernelManager: KernelManager | undefined;
let aliceKernel: Kernel.IKernelConnection | undefined;

before(async () => {
  assert.ok(fs.existsSync(JUPYTERHUB) && fs.existsSync(SINGLEUSER), `${JUPYTERHUB} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
  assert.ok(fs.existsSync(proxyScript()), 'configurable-http-proxy is missing: run npm ci');
  hub = await startHub([...USERS]);
});

after(async () => {
  aliceKernel?.dispose();
  kernelManager?.dispose();
  if (hub === undefined) return;
  const leftovers = await stopHub(hub);
  // The user servers' last writes (runtime files, the notebook signature database) can land while the
  // folder is being removed: a folder found non-empty is retried rather than failing the suite.
  fs.rmSync(hub.tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  assert.deepEqual(leftovers, [], 'the hub left processes running (user servers, kernels or the proxy)');
});

function theHub(): Hub {
  assert.ok(hub !== undefined, 'the hub did not start');
  return hub;
}

function tokenOf(user: string): string {
  const token = tokens.get(user);
  assert.ok(token !== undefined, `${user} has no token (the server test did not run)`);
  return token;
}

/** @jupyterlab/services settings for a user's server behind the hub's proxy, with that user's token. */
function settingsAs(user: string, server = 'alice'): ServerConnection.ISettings {
  const baseUrl = `${theHub().url}user/${server}/`;
  return ServerConnection.makeSettings({ baseUrl, wsUrl: baseUrl.replace(/^http/, 'ws'), token: tokenOf(user), appendToken: true, WebSocket: WebSocketImpl });
}

test('each user\'s own server starts under the hub, in its own home folder, and lists the tsgpu kernelspec installed once for all', { timeout: 300_000 }, async (t) => {
  for (const user of USERS) {
    const started = performance.now();
    serverPids.set(user, await startUserServer(theHub(), user));
    tokens.set(user, await userToken(theHub(), user));
    const cwd = fs.readlinkSync(`/proc/${serverPids.get(user)}/cwd`);
    assert.equal(cwd, path.join(theHub().tmp, 'home', user), `${user}'s server runs in ${user}'s home folder`);
    const specs = await withTimeout(KernelSpecAPI.getSpecs(settingsAs(user, user)), 30_000, `GET /user/${user}/api/kernelspecs`);
    const spec = specs.kernelspecs['tsgpu'];
    assert.ok(spec, `${user}'s server lists no tsgpu among ${Object.keys(specs.kernelspecs).join(', ')}`);
    assert.equal(spec.display_name, 'TypeScript (tsgpu)');
    t.diagnostic(`${user}: server pid ${serverPids.get(user)} ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  assert.notEqual(serverPids.get('alice'), serverPids.get('bob'), 'two servers, one per user');
});

test(`alice opens a tsgpu kernel through the hub with her token and runs ${NOTEBOOK} over the hub's websocket`, { timeout: 600_000 }, async (t) => {
  kernelManager = new KernelManager({ serverSettings: settingsAs('alice') });
  await withTimeout(kernelManager.ready, 30_000, 'KernelManager.ready');
  aliceKernel = await withTimeout(kernelManager.startNew({ name: 'tsgpu' }), 60_000, 'POST /user/alice/api/kernels');
  const info = await withTimeout(aliceKernel.info, 60_000, 'kernel_info over the hub\'s websocket');
  assert.equal(info.language_info.name, 'typescript');
  const cells = codeCells(tutorial(NOTEBOOK));
  const problems: string[] = [];
  let reports = 0;
  for (const cell of cells) {
    const iopub: KernelMessage.IIOPubMessage[] = [];
    const future = aliceKernel.requestExecute({ code: cell.source, stop_on_error: !cell.raises, store_history: true, silent: false, allow_stdin: false });
    future.onIOPub = (message) => { iopub.push(message); };
    const reply = await withTimeout(future.done, CELL_TIMEOUT_MS, `cell ${cell.number} ${firstLine(cell.source)}`);
    const errors = iopub.filter((message) => message.header.msg_type === 'error')
      .map((message) => { const c = message.content as KernelMessage.IErrorMsg['content']; return `${c.ename}: ${c.evalue}\n${c.traceback.map(stripAnsi).join('\n')}`; });
    const where = `code cell ${cell.number} ${firstLine(cell.source)}`;
    if (cell.raises && (reply.content.status !== 'error' || errors.length !== 1)) problems.push(`${where} should fail with one error (${reply.content.status})`);
    if (!cell.raises && reply.content.status !== 'ok') problems.push(`${where} failed: ${errors.join('\n')}`);
    reports += iopub.filter((message) => message.header.msg_type === 'display_data'
      && (message.content as { metadata?: Record<string, unknown> }).metadata?.['tsgpu'] !== undefined).length;
  }
  assert.deepEqual(problems, [], `${NOTEBOOK} through the hub`);
  assert.ok(reports > 0, 'no device report (display_data with metadata.tsgpu) came through the hub');
  t.diagnostic(`${cells.length} code cells, ${reports} reports through /user/alice/ on the hub's proxy`);
});

test('bob\'s token is refused for alice\'s kernel over REST and over the websocket; alice\'s kernel runs on', { timeout: 120_000 }, async () => {
  assert.ok(aliceKernel !== undefined, 'alice has no kernel (the previous test did not start one)');
  const id = aliceKernel.id;
  const asBob = await fetch(`${theHub().url}user/alice/api/kernels/${id}`, { headers: { Authorization: `token ${tokenOf('bob')}` } });
  assert.equal(asBob.status, 403, 'GET alice\'s kernel with bob\'s token');
  const asAlice = await fetch(`${theHub().url}user/alice/api/kernels/${id}`, { headers: { Authorization: `token ${tokenOf('alice')}` } });
  assert.equal(asAlice.status, 200, 'the same request with alice\'s token (the refusal is about the token, not the URL)');
  await assert.rejects(KernelAPI.getKernelModel(id, settingsAs('bob')), (error: unknown) => (error as { response?: { status?: number } }).response?.status === 403,
    '@jupyterlab/services as bob gets 403');
  const socketStatus = await new Promise<string>((resolve) => {
    const socket = new RawWebSocket(`${theHub().url.replace(/^http/, 'ws')}user/alice/api/kernels/${id}/channels`, { headers: { Authorization: `token ${tokenOf('bob')}` } });
    const timer = setTimeout(() => { socket.terminate(); resolve('no answer in 30 s'); }, 30_000);
    socket.on('open', () => { clearTimeout(timer); socket.close(); resolve('opened'); });
    socket.on('unexpected-response', (_request, response) => { clearTimeout(timer); socket.terminate(); resolve(`HTTP ${String((response as { statusCode?: number }).statusCode)}`); });
    socket.on('error', (error) => { clearTimeout(timer); resolve(`error ${(error as Error).message}`); });
  });
  assert.equal(socketStatus, 'HTTP 403', 'bob cannot open alice\'s kernel\'s websocket');
  const future = aliceKernel.requestExecute({ code: '6 * 7' });
  let result: unknown;
  future.onIOPub = (message) => { if (message.header.msg_type === 'execute_result') result = (message.content as { data: Record<string, unknown> }).data['text/plain']; };
  const reply = await withTimeout(future.done, 30_000, '6 * 7 in alice\'s kernel');
  assert.equal(reply.content.status, 'ok');
  assert.equal(result, '42');
});
