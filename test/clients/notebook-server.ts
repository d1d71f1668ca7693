// A Jupyter server for client tests: Debian's classic Notebook 6.4 (browser tests) or
// jupyter_server 1.23 (what JupyterLab runs on), with isolated Jupyter directories and the tsgpu
// kernelspec installed, 127.0.0.1, a free port, a random token. Stopping it sends SIGTERM (the
// server then shuts its kernels down) and kills, by pid, only what this server started and left
// behind.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/free-port';
import { sleep } from '../support/time';

// dist/test/clients/ -> repository root
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'kernel', 'cli', 'main.js');
// Debian's Jupyter lives in /usr/bin/python3's dist-packages; a `python3` on PATH may be another one.
export const PYTHON = '/usr/bin/python3';

export interface NotebookServer {
  url: string;
  token: string;
  /** The notebook directory (where new notebooks are saved). */
  root: string;
  /** The isolated Jupyter directories and the notebook root live here. */
  tmp: string;
  child: ChildProcess;
  log(): string;
}


/**
 * Isolated JUPYTER_* directories and the environment that points at them, nothing installed yet;
 * specDir is where `tsgpu install --prefix <tmp>` puts the kernelspec.
 */
export function isolatedJupyterDirs(label: string): { tmp: string; env: NodeJS.ProcessEnv; specDir: string } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tsgpu-${label}-`));
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Python state from the caller's environment must not leak into Debian's interpreter.
  delete env['PYTHONPATH'];
  delete env['PYTHONHOME'];
  Object.assign(env, {
    JUPYTER_PATH: path.join(tmp, 'share', 'jupyter'),
    JUPYTER_DATA_DIR: path.join(tmp, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime'),
    JUPYTER_CONFIG_DIR: path.join(tmp, 'config'),
    IPYTHONDIR: path.join(tmp, 'ipython'),
    JUPYTER_PLATFORM_DIRS: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    MESA_SHADER_CACHE_DIR: process.env['MESA_SHADER_CACHE_DIR'] ?? path.join(os.tmpdir(), 'tsgpu-mesa-shader-cache'),
  });
  for (const dir of ['data', 'runtime', 'config', 'ipython', 'notebooks']) fs.mkdirSync(path.join(tmp, dir), { recursive: true });
  return { tmp, env, specDir: path.join(tmp, 'share', 'jupyter', 'kernels', 'tsgpu') };
}

/** Isolated JUPYTER_* directories, the tsgpu kernelspec installed with `tsgpu install --prefix`. */
export function isolatedJupyter(label = 'notebook-ui'): { tmp: string; env: NodeJS.ProcessEnv; specDir: string } {
  const { tmp, env, specDir } = isolatedJupyterDirs(label);
  const install = spawnSync(process.execPath, [CLI, 'install', '--prefix', tmp], { env, encoding: 'utf8', timeout: 30_000 });
  if (install.status !== 0 || !fs.existsSync(path.join(specDir, 'kernel.json'))) {
    throw new Error(`tsgpu install --prefix ${tmp} failed (${install.status}):\n${install.stdout}\n${install.stderr}`);
  }
  return { tmp, env, specDir };
}

/** Starts `python3 -m notebook` and waits until its REST API answers (60 s at most). */
export function startNotebook(tmp: string, env: NodeJS.ProcessEnv): Promise<NotebookServer> {
  return startServer(tmp, env, 'notebook');
}

/**
 * Starts a server and waits until its REST API answers (60 s at most): `notebook` is the classic
 * Notebook 6.4 (JSON websocket), `jupyter_server` is jupyter_server 1.23 (Debian has no
 * jupyter-server command: `python3 -m jupyter_server`; binary websocket protocol).
 */
export async function startServer(tmp: string, env: NodeJS.ProcessEnv, kind: 'notebook' | 'jupyter_server'): Promise<NotebookServer> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const root = path.join(tmp, 'notebooks');
  const app = kind === 'notebook' ? 'NotebookApp' : 'ServerApp';
  const rootOption = kind === 'notebook' ? `--NotebookApp.notebook_dir=${root}` : `--ServerApp.root_dir=${root}`;
  const child = spawn(PYTHON, ['-m', kind, '--no-browser', '--allow-root', '--ip=127.0.0.1', `--port=${port}`,
    '--port-retries=0', `--${app}.token=${token}`, rootOption], {
    cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const server: NotebookServer = { url: `http://127.0.0.1:${port}/`, token, root, tmp, child, log: () => output };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the ${kind} server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    try {
      const response = await fetch(`${server.url}api/status`, { headers: { Authorization: `token ${token}` } });
      if (response.ok) return server;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await stopNotebook(server);
  throw new Error(`the ${kind} server did not answer within 60 s:\n${output}`);
}

/** Pids of live processes whose command line mentions `text` (the kernels of this server mention its runtime dir). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.charAt(stat.lastIndexOf(')') + 2);
      if (cmdline.includes(text) && state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/**
 * SIGTERM to the server (it shuts its kernels down), SIGKILL after 15 s. Returns the pids of
 * kernels this server started that were still alive afterwards (they are killed too).
 */
export async function stopNotebook(server: NotebookServer): Promise<number[]> {
  const { child } = server;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), 15_000);
    })]);
    clearTimeout(timer);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  const runtime = path.join(server.tmp, 'runtime');
  let leftovers = processesMentioning(runtime);
  for (let i = 0; i < 25 && leftovers.length > 0; i++) {
    await sleep(200);
    leftovers = processesMentioning(runtime);
  }
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return leftovers;
}
