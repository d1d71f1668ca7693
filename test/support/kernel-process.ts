// Starting the kernel as an OS process and watching it die.
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** dist/kernel/cli/main.js, seen from dist/test/support. */
export const KERNEL_MAIN = path.resolve(__dirname, '../../kernel/cli/main.js');

const OUTPUT_LIMIT = 64 * 1024;

export interface KernelProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last 64 KiB of the kernel's stdout and stderr, for failure messages. */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface LaunchOptions {
  /** The kernel's working directory (the notebook's folder); default this process's. */
  cwd?: string;
  /** Variables added to (or overriding) this process's environment for the kernel. */
  env?: Record<string, string>;
}

export function launchKernel(connectionFile: string, options: LaunchOptions = {}): KernelProcess {
  const child = spawn(process.execPath, [KERNEL_MAIN, 'kernel', connectionFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
  });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${process.execPath} ${KERNEL_MAIN}`);
  return { child, pid: child.pid, output: () => output, exited };
}

/** True while the process exists and is not a zombie (an orphan's zombie may linger unreaped). */
export function isRunning(pid: number): boolean {
  if (process.platform !== 'linux') {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state letter follows the parenthesised command name, which may itself contain ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state !== 'Z' && state !== 'X';
}

export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export function killIfRunning(pid: number): void {
  if (!isRunning(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone between the check and the kill.
  }
}
