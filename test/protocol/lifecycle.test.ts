// Starting, identifying, pinging and stopping the kernel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeConnectionFile } from '../support/connection-file';
import { assertBusyThenIdle } from '../support/exchange';
import { freshKernel, useKernel } from '../support/fixtures';
import { KernelClient } from '../support/kernel-client';
import { isRunning, KERNEL_MAIN, killIfRunning, waitUntilGone } from '../support/kernel-process';
import { okContent } from '../support/message-schema';
import { TIMED_OUT, within } from '../support/time';

const PACKAGE_JSON = path.resolve(__dirname, '../../../package.json');

async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(PACKAGE_JSON, 'utf8')) as { version: string }).version;
}

describe('identifying and pinging a running kernel', () => {
  const kernel = useKernel();

  for (const channel of ['shell', 'control'] as const) {
    test(`kernel_info on ${channel} says tsgpu speaks TypeScript over protocol 5.3, between busy and idle`, async () => {
      const exchange = await kernel().request(channel, 'kernel_info_request');
      assertBusyThenIdle(exchange);
      assert.notEqual(exchange.reply.header.session, kernel().session, 'the kernel must use its own session id');
      const info = okContent(exchange.reply, 'kernel_info_reply');
      assert.equal(info.protocol_version, '5.3');
      assert.equal(info.implementation, 'tsgpu');
      assert.equal(info.implementation_version, await packageVersion());
      const { name, version, mimetype, file_extension, codemirror_mode, pygments_lexer } = info.language_info;
      assert.deepEqual(
        { name, mimetype, file_extension, codemirror_mode, pygments_lexer },
        { name: 'typescript', mimetype: 'text/typescript', file_extension: '.ts',
          codemirror_mode: 'typescript', pygments_lexer: 'typescript' },
      );
      assert.notEqual(version, '', 'language_info.version is empty');
      assert.ok((info.help_links ?? []).length > 0, 'help_links is empty');
      assert.equal(typeof info.banner, 'string');
    });
  }

  test('the heartbeat echoes every frame it is sent', async (t) => {
    const single = await kernel().heartbeat(5000, ['ping']);
    assert.deepEqual(single.echo, ['ping']);
    const multi = await kernel().heartbeat(5000, ['one', 'two', '😀']);
    assert.deepEqual(multi.echo, ['one', 'two', '😀']);
    t.diagnostic(`heartbeat round trips: ${single.ms.toFixed(1)} ms, ${multi.ms.toFixed(1)} ms`);
  });
});

describe('stopping the kernel', () => {
  for (const restart of [false, true]) {
    test(`shutdown_request on control with restart ${restart} replies restart ${restart} and the process exits with code 0`,
      async (t) => {
        const k = await freshKernel(t);
        const started = performance.now();
        const exchange = await k.request('control', 'shutdown_request', { restart }, { waitIdle: false });
        const reply = okContent(exchange.reply, 'shutdown_reply');
        assert.equal(reply.restart, restart);
        const exit = await k.waitForExit(5000);
        t.diagnostic(`process exit ${JSON.stringify(exit)} ${(performance.now() - started).toFixed(0)} ms after the request`);
        assert.deepEqual(exit, { code: 0, signal: null });
      });
  }

  test('the kernel exits within 5 s when the process that launched it is killed', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tsgpu-parent-death-'));
    const { file, info } = await writeConnectionFile(dir);
    const log = path.join(dir, 'kernel.log');
    // The launcher gives the kernel a log file, not pipes: a dead pipe reader would kill the
    // kernel with EPIPE and the test would pass for the wrong reason.
    const launcher = spawn(process.execPath, ['-e', `
      const { spawn } = require('node:child_process');
      const out = require('node:fs').openSync(process.argv[3], 'a');
      const kernel = spawn(process.execPath, [process.argv[1], 'kernel', process.argv[2]], { stdio: ['ignore', out, out] });
      process.stdout.write(kernel.pid + '\\n');
      setInterval(() => {}, 1 << 30);
    `, KERNEL_MAIN, file, log], { stdio: ['ignore', 'pipe', 'inherit'] });
    const printedPid = new Promise<number>((resolve, reject) => {
      let text = '';
      launcher.stdout?.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) resolve(Number.parseInt(text, 10));
      });
      launcher.once('exit', (code) => reject(new Error(`launcher exited early (${code})`)));
    });
    const kernelPid = await within(printedPid, 15_000);
    if (kernelPid === TIMED_OUT) {
      launcher.kill('SIGKILL');
      assert.fail('the launcher did not report the kernel pid within 15 s');
    }
    const client = new KernelClient(info);
    t.after(async () => {
      await client.close();
      if (launcher.pid !== undefined) killIfRunning(launcher.pid);
      killIfRunning(kernelPid);
      await rm(dir, { recursive: true, force: true });
    });
    await client.waitReady();
    assert.ok(isRunning(kernelPid));

    launcher.kill('SIGKILL');
    const started = performance.now();
    const gone = await waitUntilGone(kernelPid, 5000);
    t.diagnostic(`kernel ${gone ? 'exited' : 'still running'} ${(performance.now() - started).toFixed(0)} ms after its parent died`);
    assert.ok(gone, `kernel pid ${kernelPid} still running 5 s after its parent was killed; log:\n${
      await readFile(log, 'utf8').catch(() => '')}`);
    assert.deepEqual(client.problems, []);
  });
});
