// Launching the kernels the benchmarks compare (tsgpu, Debian's ipykernel, and Deno's kernel where
// npm can provide it) in an isolated Jupyter environment, and the statistics they share.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { kernelArgv, SNAPSHOTS_SUPPORTED } from '../../kernel/cli/install';
import { buildSnapshot, snapshotCurrent, snapshotDir } from '../../kernel/startup/snapshot-build';
import { WireClient, writeConnectionFile, type Message } from './wire-client';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'kernel', 'cli', 'main.js');
const PYTHON = '/usr/bin/python3';

export interface KernelDef { name: string; command: (connectionFile: string) => [string, string[]] }

/** tsgpu started as the kernelspec `tsgpu install` writes starts it (from the start-up snapshot where one is built). */
const TSGPU: KernelDef = {
  name: 'tsgpu',
  command: (cf) => {
    const [command, ...args] = kernelArgv(SNAPSHOTS_SUPPORTED).map((arg) => (arg === '{connection_file}' ? cf : arg));
    return [command!, args];
  },
};

/** tsgpu without the snapshot: `node dist/kernel/cli/main.js kernel FILE`. */
const TSGPU_PLAIN: KernelDef = { name: 'tsgpu-plain', command: (cf) => [process.execPath, [CLI, 'kernel', cf]] };

export const KERNELS: KernelDef[] = [
  TSGPU,
  { name: 'ipykernel', command: (cf) => [PYTHON, ['-m', 'ipykernel_launcher', '-f', cf]] },
];

/**
 * Builds the start-up snapshot the kernelspec's launcher uses, unless one is there already;
 * returns a line saying what tsgpu starts from.
 */
export function prepareSnapshot(): string {
  if (!SNAPSHOTS_SUPPORTED) return 'tsgpu starts without a snapshot on this platform';
  const dir = snapshotDir();
  if (snapshotCurrent(dir)) return `tsgpu starts from the snapshot in ${dir}`;
  const failed = buildSnapshot(dir);
  return failed === null ? `tsgpu starts from the snapshot built now in ${dir}` : `tsgpu starts without a snapshot: ${failed}`;
}

/** Deno's kernel is a comparison only, never a dependency: it is installed outside the repository. */
const DENO_PACKAGE = '@deno/linux-x64-glibc';
const DENO_VERSION = '2.9.6';
const BENCH_CACHE = path.join(os.homedir(), '.cache', 'tsgpu-bench');

/** The deno binary, installed from npm into ~/.cache/tsgpu-bench on first use; null (and why) where it cannot be. */
function denoBinary(): { binary: string } | { skipped: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skipped: `${DENO_PACKAGE} is for linux-x64 only` };
  const binary = path.join(BENCH_CACHE, 'node_modules', ...DENO_PACKAGE.split('/'), 'deno');
  if (!fs.existsSync(binary)) {
    try {
      fs.mkdirSync(BENCH_CACHE, { recursive: true });
      execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', BENCH_CACHE, `${DENO_PACKAGE}@${DENO_VERSION}`],
        { stdio: 'pipe', timeout: 180_000 });
    } catch (error) {
      const reason = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').at(-1) ?? String(error);
      return { skipped: `npm could not install ${DENO_PACKAGE}@${DENO_VERSION} (offline?): ${reason}` };
    }
  }
  return fs.existsSync(binary) ? { binary } : { skipped: `${DENO_PACKAGE} installed no deno binary` };
}

/**
 * tsgpu and ipykernel, tsgpu's plain start where asked (or TSGPU_BENCH_PLAIN=1), and Deno's kernel
 * where it can be installed (a line says so where not).
 */
export function benchKernels(options: { plain?: boolean } = {}): KernelDef[] {
  console.log(`  ${prepareSnapshot()}`);
  const plain = options.plain ?? process.env['TSGPU_BENCH_PLAIN'] === '1';
  const kernels = [...KERNELS, ...(plain ? [TSGPU_PLAIN] : [])];
  const deno = denoBinary();
  if ('skipped' in deno) {
    console.log(`  Deno's kernel skipped: ${deno.skipped}`);
    return kernels;
  }
  return [...kernels, { name: 'deno', command: (cf) => [deno.binary, ['jupyter', '--kernel', '--conn', cf]] }];
}

export interface Running {
  def: KernelDef;
  child: ChildProcess;
  client: WireClient;
  coldMs: number;
  /** performance.now() at spawn. */
  spawnedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderrTail: () => string;
}

let tmpRoot = '';

export function cleanupEnv(): void {
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
}
let kernelEnv: NodeJS.ProcessEnv = {};

export function setupEnv(): void {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-bench-'));
  kernelEnv = { ...process.env };
  delete kernelEnv.PYTHONPATH;
  delete kernelEnv.PYTHONHOME;
  for (const d of ['runtime', 'config', 'data', 'ipython']) fs.mkdirSync(path.join(tmpRoot, d));
  // The kernels' working directory, as a notebook's folder: a strict project, since the typed cell
  // narrows a union on a boolean, which needs strictNullChecks.
  fs.writeFileSync(path.join(tmpRoot, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
  Object.assign(kernelEnv, {
    JUPYTER_RUNTIME_DIR: path.join(tmpRoot, 'runtime'),
    JUPYTER_CONFIG_DIR: path.join(tmpRoot, 'config'),
    JUPYTER_DATA_DIR: path.join(tmpRoot, 'data'),
    JUPYTER_PATH: path.join(tmpRoot, 'data'),
    IPYTHONDIR: path.join(tmpRoot, 'ipython'),
    JUPYTER_PLATFORM_DIRS: '1',
    PYDEVD_DISABLE_FILE_VALIDATION: '1',
    DENO_NO_UPDATE_CHECK: '1',
  });
}

export async function launch(def: KernelDef): Promise<Running> {
  const { file, info } = await writeConnectionFile(path.join(tmpRoot, 'runtime'), def.name);
  const [cmd, args] = def.command(file);
  const client = new WireClient(info);
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: tmpRoot, env: kernelEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: null, signal: null }));
  });
  client.connect();
  const died = exited.then((e): never => {
    throw new Error(`${def.name} exited (code ${e.code}, signal ${e.signal}) before kernel_info_reply; stderr:\n${stderr}`);
  });
  died.catch(() => undefined);
  try {
    await Promise.race([client.kernelInfoUntilAnswered({ intervalMs: 200, timeoutMs: 60_000, needIopubIdle: false }), died]);
  } catch (err) {
    client.close();
    child.kill('SIGKILL');
    throw err;
  }
  const coldMs = performance.now() - t0;
  return { def, child, client, coldMs, spawnedAt: t0, exited, stderrTail: () => stderr };
}

export async function stop(k: Running): Promise<boolean> {
  if (k.child.exitCode !== null || k.child.signalCode !== null) { k.client.close(); return false; }
  k.client.send('control', 'shutdown_request', { restart: false });
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  const r = await Promise.race([k.exited, timeout]);
  k.client.close();
  if (r === 'timeout') {
    k.child.kill('SIGKILL');
    await k.exited;
    return false;
  }
  return true;
}

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try { tasks = fs.readdirSync(`/proc/${out[i]}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        const kids = fs.readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      } catch { /* task ended */ }
    }
  }
  return out;
}

export function rssMiB(pid: number): number {
  let kib = 0;
  for (const p of descendants(pid)) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch { /* process ended */ }
  }
  return kib / 1024;
}

export function mapsMention(pid: number, needle: string): boolean {
  return descendants(pid).some((p) => {
    try { return fs.readFileSync(`/proc/${p}/maps`, 'utf8').includes(needle); } catch { return false; }
  });
}

export function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** `--reps N` from a bench's arguments (`fallback` without it); `usage` is thrown for anything but a positive integer. */
export function repsOption(argv: string[], fallback: number, usage: string): number {
  const at = argv.indexOf('--reps');
  const reps = at >= 0 ? Number(argv[at + 1]) : fallback;
  if (!Number.isInteger(reps) || reps < 1) throw new Error(usage);
  return reps;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function textPlain(iopub: Message[]): string | undefined {
  const r = iopub.find((m) => m.header.msg_type === 'execute_result');
  const data = r?.content.data as Record<string, unknown> | undefined;
  // Deno's kernel colours its text/plain with ANSI escapes.
  return typeof data?.['text/plain'] === 'string' ? data['text/plain'].replace(/\u001b\[[0-9;]*m/g, '') : undefined;
}

