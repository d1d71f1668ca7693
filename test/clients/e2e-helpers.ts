// Shared by the end-to-end client tests: the tutorial notebooks and their code cells, a bounded
// child process, deadlines on promises, an endless cell to interrupt, and checks on an executed
// notebook's JSON.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { ROOT } from './notebook-server';

export const NOTEBOOKS_DIR = path.join(ROOT, 'notebooks');
/** The tutorial notebooks every client test expects (more may exist; all of them are run). */
export const TUTORIALS = ['01-cpu-gpu-switching.ipynb', '02-transfer-cost.ipynb', '03-device-policy.ipynb'];

/** Every .ipynb in notebooks/, sorted by name (empty when the folder is missing). */
export function notebookFiles(): string[] {
  if (!fs.existsSync(NOTEBOOKS_DIR)) return [];
  return fs.readdirSync(NOTEBOOKS_DIR).filter((name) => name.endsWith('.ipynb')).sort().map((name) => path.join(NOTEBOOKS_DIR, name));
}

/** A tutorial's path; fails (never skips) when it is missing. */
export function tutorial(name: string): string {
  const file = path.join(NOTEBOOKS_DIR, name);
  assert.ok(fs.existsSync(file), `${file} is missing: the tutorial notebooks live in notebooks/`);
  return file;
}

export interface JsonCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: unknown };
  execution_count?: number | null;
  outputs?: JsonOutput[];
}

export interface JsonOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  execution_count?: number | null;
}

export interface JsonNotebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: JsonCell[];
}

export function readNotebookJson(file: string): JsonNotebook {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as JsonNotebook;
}

export function sourceOf(cell: JsonCell): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

export function tagsOf(cell: JsonCell): string[] {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
}

export function raisesException(cell: JsonCell): boolean {
  return tagsOf(cell).includes('raises-exception');
}

export interface CodeCell {
  /** 1-based among the code cells, as `tsgpu run` numbers them. */
  number: number;
  source: string;
  raises: boolean;
}

/** The notebook's code cells, in order. */
export function codeCells(file: string): CodeCell[] {
  return readNotebookJson(file).cells.filter((cell) => cell.cell_type === 'code')
    .map((cell, index) => ({ number: index + 1, source: sourceOf(cell), raises: raisesException(cell) }));
}

/** The first line of a cell, for messages. */
export function firstLine(source: string): string {
  return JSON.stringify((source.split('\n').find((line) => line.trim() !== '') ?? '').slice(0, 70));
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

/**
 * Runs a command with a deadline; past it SIGINT (Python clients then shut their kernel down,
 * `tsgpu run` too), SIGKILL 10 s later. Kills only the process it started.
 */
export function runCommand(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer !== undefined) clearTimeout(killTimer);
      resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
    });
  });
}

export function describeRun(result: RunResult, tail = 6000): string {
  return `exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}${result.timedOut ? ' after timing out' : ''}` +
    ` in ${(result.ms / 1000).toFixed(1)} s\n--- stdout (tail) ---\n${stripAnsi(result.stdout).slice(-tail)}\n` +
    `--- stderr (tail) ---\n${stripAnsi(result.stderr).slice(-tail)}`;
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The promise's value, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `while (true) {}` to the kernel and waits (30 s at most) for its execute_input, then 500 ms
 * more so that the cell is surely running; `context` is appended to the timeout's message. The
 * cell's iopub messages keep arriving in `iopub`; `future.done` settles once it is interrupted.
 */
export async function startEndlessCell(kernel: Kernel.IKernelConnection, context = ''): Promise<{
  future: Kernel.IShellFuture<KernelMessage.IExecuteRequestMsg, KernelMessage.IExecuteReplyMsg>;
  iopub: KernelMessage.IIOPubMessage[];
}> {
  const iopub: KernelMessage.IIOPubMessage[] = [];
  const future = kernel.requestExecute({ code: 'while (true) {}', stop_on_error: true });
  const running = new Promise<void>((resolve) => {
    future.onIOPub = (message) => {
      iopub.push(message);
      if (message.header.msg_type === 'execute_input') resolve();
    };
  });
  await withTimeout(running, 30_000, `execute_input of the endless cell${context}`);
  await sleep(500);
  return { future, iopub };
}

/** Checks Debian's nbformat accepts the file as a valid notebook (nbformat.validate). */
export async function assertValidNotebook(file: string, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runCommand('/usr/bin/python3', ['-c',
    'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print("valid")', file],
  { env, timeoutMs: 60_000 });
  assert.equal(result.code, 0, `nbformat.validate rejects ${file}:\n${describeRun(result)}`);
}

function errorSummary(output: JsonOutput): string {
  return `${output.ename}: ${output.evalue}\n${(output.traceback ?? []).map(stripAnsi).join('\n')}`;
}

/**
 * What every executed tutorial must show: nbformat 4.5, an execution_count on every code cell
 * (increasing), an error output exactly in the cells tagged raises-exception, and at least one
 * inline device report (display_data with metadata.tsgpu) whose "cell N" is its cell's count.
 */
export function assertExecutedNotebook(file: string, label: string): { reports: number; codeCells: number } {
  const notebook = readNotebookJson(file);
  assert.equal(notebook.nbformat, 4, `${label}: nbformat`);
  assert.equal(notebook.nbformat_minor, 5, `${label}: nbformat_minor`);
  const problems: string[] = [];
  let reports = 0;
  let previous = 0;
  const cells = notebook.cells.filter((cell) => cell.cell_type === 'code');
  cells.forEach((cell, index) => {
    const where = `code cell ${index + 1} ${firstLine(sourceOf(cell))}`;
    const count = cell.execution_count;
    if (typeof count !== 'number') problems.push(`${where}: execution_count ${JSON.stringify(count)}`);
    else if (count <= previous) problems.push(`${where}: execution_count ${count} after ${previous}`);
    else previous = count;
    const outputs = cell.outputs ?? [];
    const errors = outputs.filter((output) => output.output_type === 'error');
    if (raisesException(cell) && errors.length === 0) problems.push(`${where}: tagged raises-exception but shows no error`);
    if (!raisesException(cell) && errors.length > 0) problems.push(`${where}: unexpected error ${errorSummary(errors[0] as JsonOutput)}`);
    for (const output of outputs) {
      const report = output.metadata?.['tsgpu'];
      if (output.output_type !== 'display_data' || report === undefined) continue;
      reports++;
      const text = output.data?.['text/plain'];
      const plain = Array.isArray(text) ? text.join('') : String(text);
      if (!plain.startsWith(`[tsgpu] cell ${String(count)}:`)) {
        problems.push(`${where}: report text/plain does not start with "[tsgpu] cell ${String(count)}:": ${JSON.stringify(plain.slice(0, 120))}`);
      }
      const html = output.data?.['text/html'];
      if (!(Array.isArray(html) ? html.join('') : String(html)).includes('tsgpu-report-table')) {
        problems.push(`${where}: report without its HTML table`);
      }
      const reportCell = (report as { cell?: unknown }).cell;
      if (reportCell !== count) problems.push(`${where}: metadata.tsgpu.cell ${JSON.stringify(reportCell)} is not the execution_count ${String(count)}`);
    }
  });
  assert.deepEqual(problems, [], `${label}: ${file}`);
  assert.ok(reports > 0, `${label}: no device report (display_data with metadata.tsgpu) in ${file}`);
  return { reports, codeCells: cells.length };
}
