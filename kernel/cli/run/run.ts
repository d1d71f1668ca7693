// `tsgpu run NOTEBOOK.ipynb [-o OUT.ipynb] [--device D] [--timeout S] [--allow-errors]`:
// executes a notebook headless through a real kernel over ZeroMQ, shows each cell's outputs and
// device report in the terminal, and writes the executed notebook. Exits non-zero on an error in
// a cell not tagged `raises-exception`, naming the cell and line.
import path from 'node:path';
import type { JsonObject } from '../../protocol/messages';
import { KernelSession } from './kernel-session';
import { type Cell, isTagged, type Notebook, readNotebook, writeNotebook } from './notebook';
import { CellOutputs } from './outputs';
import { bold, cellBanner, dim, green, outputText, red } from './terminal';

export interface RunOptions {
  notebook: string;
  output: string | null;
  device: string | null;
  timeoutSeconds: number;
  allowErrors: boolean;
}

/** Returns the options, or a message saying what is wrong with the arguments. */
export function parseRunArgs(args: string[]): RunOptions | string {
  const options: RunOptions = { notebook: '', output: null, device: null, timeoutSeconds: 600, allowErrors: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string | undefined => args[++i];
    if (arg === '-o' || arg === '--output') options.output = value() ?? '';
    else if (arg === '--device') options.device = value() ?? '';
    else if (arg === '--timeout') options.timeoutSeconds = Number(value());
    else if (arg === '--allow-errors') options.allowErrors = true;
    else if (arg.startsWith('-')) return `unknown run option "${arg}"`;
    else if (options.notebook === '') options.notebook = arg;
    else return `run takes one notebook, got "${options.notebook}" and "${arg}"`;
  }
  if (options.notebook === '') return 'run needs a notebook: tsgpu run NOTEBOOK.ipynb';
  if (options.output === '') return '-o needs a file name';
  if (options.device === '') return '--device needs a device name, e.g. --device gpu:0';
  if (!Number.isFinite(options.timeoutSeconds) || options.timeoutSeconds <= 0) return '--timeout needs a number of seconds per cell';
  return options;
}

interface Failure {
  cell: number;
  ename: string;
  evalue: string;
  line: number | null;
}

/** The cell line an error points at: the `L | code` line our tracebacks end with, or L:C in evalue. */
function errorLine(content: JsonObject): number | null {
  const traceback = (content['traceback'] as string[] | undefined) ?? [];
  const quoted = traceback.map((line) => /^(\d+) \| /.exec(line)).find(Boolean);
  if (quoted) return Number(quoted[1]);
  const position = /^(\d+):\d+ - /.exec(String(content['evalue'] ?? ''));
  return position ? Number(position[1]) : null;
}

/** What one cell did: its outputs, and its error (a cell past its time fails with the kernel's interrupt error). */
interface CellRun {
  outputs: CellOutputs;
  error: JsonObject | null;
  timedOut: boolean;
}

async function runCell(kernel: KernelSession, cell: Cell, timeoutMs: number): Promise<CellRun> {
  const outputs = new CellOutputs();
  const show = (text: string): void => void process.stdout.write(`${text}\n`);
  const content = { code: cell.source, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
  // A cell over its time is interrupted, as nbclient does; its reply (the interrupt error) still comes.
  const result = await kernel.execute(content, timeoutMs, (message) => {
    const changed = outputs.apply(message);
    if (changed) show(outputText(changed));
  });
  if (result.timedOut) show(red(`    cell ran past ${timeoutMs / 1000} s: interrupted`));
  // Displays updated in place (progress bars) are shown once more, as they ended.
  for (const output of outputs.updated) if (outputs.outputs.includes(output)) show(outputText(output));
  const reply = result.reply.content;
  const status = String(reply['status']);
  if (status === 'ok') return { outputs, error: null, timedOut: result.timedOut };
  if (status === 'error') return { outputs, error: reply, timedOut: result.timedOut };
  // 'aborted' (or anything else): the cell did not run, which must never pass as success.
  return { outputs, error: { ename: 'NotRun', evalue: `the kernel answered "${status}" and did not run the cell`, traceback: [] }, timedOut: result.timedOut };
}

/** The cell's first %device line, as the note about --device quotes it. */
function deviceLine(source: string): string {
  return source.split('\n').find((line) => /^\s*%device\s+\S/.test(line))?.trim() ?? '%device';
}

export async function runNotebook(options: RunOptions): Promise<number> {
  const notebook: Notebook = readNotebook(options.notebook);
  const codeCells = notebook.cells.filter((cell) => cell.cell_type === 'code');
  const started = performance.now();
  process.stdout.write(`${bold(path.basename(options.notebook))}: ${codeCells.length} code cells\n`);
  let kernelLog = '';
  const kernel = await KernelSession.start(path.dirname(path.resolve(options.notebook)), (text) => {
    kernelLog = (kernelLog + text).slice(-4000);
  });
  const failures: Failure[] = [];
  try {
    // The kernel loads its TypeScript compiler after it starts (about a second, several on a busy
    // machine): a silent cell waits for that first, so no cell's --timeout pays for it.
    await kernel.request('shell', 'execute_request', { code: '0', silent: true, store_history: false }, 120_000);
    if (options.device) {
      const chosen = await kernel.request('shell', 'execute_request', { code: `%device ${options.device}`, silent: false, store_history: false }, options.timeoutSeconds * 1000);
      if (chosen.reply.content['status'] !== 'ok') throw new Error(`--device ${options.device}: ${String(chosen.reply.content['evalue'])}`);
      // --device chooses where the notebook starts; a cell's own %device moves it on from there
      // (%%device is for its own cell only).
      const switching = codeCells.findIndex((cell) => /^\s*%device\s+\S/m.test(cell.source));
      if (switching >= 0) {
        const line = deviceLine(codeCells[switching]!.source);
        process.stdout.write(dim(`note: --device ${options.device} holds until cell ${switching + 1} (${line}), which chooses a device of its own\n`));
      }
    }
    for (const [index, cell] of codeCells.entries()) {
      const expected = isTagged(cell, 'raises-exception');
      const firstLine = cell.source.split('\n').find((line) => line.trim() !== '') ?? '';
      process.stdout.write(`${cellBanner(index + 1, codeCells.length, dim(firstLine.slice(0, 60)))}\n`);
      const cellStarted = performance.now();
      const { outputs, error, timedOut } = await runCell(kernel, cell, options.timeoutSeconds * 1000);
      cell.outputs = outputs.outputs;
      cell.execution_count = outputs.executionCount;
      const ms = performance.now() - cellStarted;
      // A cell that ran past its limit fails even when it finished before the interrupt reached it.
      if ((error || timedOut) && !expected) {
        const evalue = timedOut
          ? `timed out after ${options.timeoutSeconds} s and was interrupted${error ? ` (${String(error['ename'])}: ${String(error['evalue'])})` : ''}`
          : String(error!['evalue']);
        failures.push({ cell: index + 1, ename: timedOut ? 'Timeout' : String(error!['ename']), evalue, line: timedOut || !error ? null : errorLine(error) });
        process.stdout.write(red(`    ✗ ${timedOut ? 'timed out' : `unexpected ${String(error!['ename'])}`} (${ms.toFixed(0)} ms)\n`));
        if (!options.allowErrors) break;
      } else {
        process.stdout.write(dim(`    ${error ? '✓ raised as expected' : '✓'} (${ms.toFixed(0)} ms)\n`));
      }
    }
  } finally {
    await kernel.shutdown();
  }
  if (options.output) {
    writeNotebook(options.output, notebook);
    process.stdout.write(`wrote ${options.output}\n`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length === 0) {
    process.stdout.write(green(`ran ${codeCells.length} cells in ${seconds} s, no unexpected errors\n`));
    return 0;
  }
  for (const failure of failures) {
    process.stderr.write(red(`error in cell ${failure.cell}${failure.line === null ? '' : `, line ${failure.line}`}: ${failure.ename}: ${failure.evalue}\n`));
  }
  if (kernelLog.includes('Error')) process.stderr.write(dim(`kernel log (end):\n${kernelLog}\n`));
  return options.allowErrors ? 0 : 1;
}
