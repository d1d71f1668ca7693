// End to end through Debian's jupyter_client: install the kernelspec into an isolated Jupyter
// environment, check what `jupyter kernelspec list` sees, then let jupyter_client's KernelManager and
// BlockingKernelClient launch and drive the kernel (test/clients/jupyter_client_check.py).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, isolatedJupyterDirs, PYTHON, ROOT } from './notebook-server';

const CHECK_PY = path.join(ROOT, 'test', 'clients', 'jupyter_client_check.py');
const JUPYTER = '/usr/bin/jupyter';

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a command; on timeout send SIGINT (Python then shuts its kernel down), SIGKILL 5 s later. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function describe(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' after timing out' : ''}\n` +
    `--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
}

/** Width and height from a PNG's IHDR chunk, or null when the bytes are not a PNG. */
function pngSize(file: string): { width: number; height: number } | null {
  const b = fs.readFileSync(file);
  const magic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (b.length < 24 || !b.subarray(0, 8).equals(magic) || b.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

let tmp = '';
let env: NodeJS.ProcessEnv = {};
let specDir = '';

before(() => {
  // Nothing installed yet: the install itself is under test below.
  const jupyter = isolatedJupyterDirs('jupyter-client');
  tmp = jupyter.tmp;
  specDir = jupyter.specDir;
  env = { ...jupyter.env, PYTHONUNBUFFERED: '1' };
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('Debian jupyter_client is available', () => {
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(JUPYTER), `${JUPYTER} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
});

test('tsgpu install --prefix writes a kernelspec with absolute paths and logos', async () => {
  const r = await run(process.execPath, [CLI, 'install', '--prefix', tmp], env, 120_000);
  assert.equal(r.code, 0, `tsgpu install --prefix failed: ${describe(r)}`);
  const specFile = path.join(specDir, 'kernel.json');
  assert.ok(fs.existsSync(specFile), `no ${specFile}; install printed: ${describe(r)}`);
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8')) as {
    argv?: unknown; display_name?: unknown; language?: unknown; interrupt_mode?: unknown; metadata?: unknown;
  };
  assert.ok(Array.isArray(spec.argv), `argv is not an array: ${JSON.stringify(spec.argv)}`);
  const argv = spec.argv as unknown[];
  // The launcher (kernel/cli/assets/launch-kernel.sh) starts node from the start-up snapshot, or plainly.
  assert.equal(argv.length, 6, `argv ${JSON.stringify(argv)}`);
  const [shell, launcher, node, main, snapshotKey, conn] = argv;
  assert.equal(shell, '/bin/sh');
  assert.equal(typeof launcher, 'string');
  assert.ok(fs.existsSync(launcher as string), `argv[1] (the launcher) is missing: ${String(launcher)}`);
  assert.equal(typeof node, 'string');
  assert.ok(path.isAbsolute(node as string), `argv[2] (node) is not absolute: ${String(node)}`);
  fs.accessSync(node as string, fs.constants.X_OK);
  assert.equal(typeof main, 'string');
  assert.ok(path.isAbsolute(main as string), `argv[3] (main.js) is not absolute: ${String(main)}`);
  assert.equal(fs.realpathSync(main as string), fs.realpathSync(CLI), 'argv[3] is not this checkout\'s dist/kernel/cli/main.js');
  assert.match(String(snapshotKey), /^[0-9a-f]{16}$/, 'argv[4] is the key of the snapshot folder in the user\'s cache');
  assert.equal(conn, '{connection_file}');
  assert.equal(spec.display_name, 'TypeScript (tsgpu)');
  assert.equal(spec.language, 'typescript');
  assert.equal(spec.interrupt_mode, 'message');
  // The contract says metadata {}; any extra key must at least not claim a debugger the kernel lacks.
  assert.ok(spec.metadata !== null && typeof spec.metadata === 'object' && !Array.isArray(spec.metadata),
    `metadata ${JSON.stringify(spec.metadata)}`);
  assert.notEqual((spec.metadata as Record<string, unknown>).debugger, true, 'metadata.debugger is true but the kernel has no debugger');
  for (const [name, px] of [['logo-32x32.png', 32], ['logo-64x64.png', 64]] as const) {
    const f = path.join(specDir, name);
    assert.ok(fs.existsSync(f), `missing ${name}`);
    assert.deepEqual(pngSize(f), { width: px, height: px }, `${name} is not a ${px}x${px} PNG`);
  }
  const svg = path.join(specDir, 'logo-svg.svg');
  assert.ok(fs.existsSync(svg), 'missing logo-svg.svg');
  assert.match(fs.readFileSync(svg, 'utf8'), /<svg[\s>]/, 'logo-svg.svg has no <svg> element');
});

test('jupyter kernelspec list finds tsgpu in the isolated environment', async () => {
  const plain = await run(JUPYTER, ['kernelspec', 'list'], env, 30_000);
  assert.equal(plain.code, 0, describe(plain));
  assert.match(plain.stdout, new RegExp(`^\\s*tsgpu\\s+${specDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm'),
    `jupyter kernelspec list does not show tsgpu at ${specDir}:\n${plain.stdout}`);
  const json = await run(JUPYTER, ['kernelspec', 'list', '--json'], env, 30_000);
  assert.equal(json.code, 0, describe(json));
  const specs = (JSON.parse(json.stdout) as { kernelspecs: Record<string, { resource_dir: string; spec: { language: string } }> })
    .kernelspecs;
  assert.ok(specs.tsgpu, `no tsgpu in ${Object.keys(specs).join(', ')}`);
  assert.equal(fs.realpathSync(specs.tsgpu.resource_dir), fs.realpathSync(specDir));
  assert.equal(specs.tsgpu.spec.language, 'typescript');
});

test('jupyter_client drives the kernel: execute, stream, error, complete, history, interrupt, shutdown', async () => {
  const r = await run(PYTHON, [CHECK_PY, '--kernel', 'tsgpu', '--expect-dir', specDir], env, 150_000);
  assert.equal(r.code, 0, `jupyter_client_check.py failed: ${describe(r)}`);
  assert.match(r.stdout, /^all checks passed/m, describe(r));
});
