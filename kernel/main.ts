// `tsgpu kernel CONNECTION_FILE`: the kernel process. The main thread runs user code; the
// protocol runs in a worker (see interpreter/thread-link.ts for why the split falls this way).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createMagics } from '../magics/index';
import { DeviceLayer } from './device/device-layer';
import { cellWork, currentCell, isInterruptError } from './interpreter/cell-context';
import { InterpreterHost } from './interpreter/host';
import { useKernelTiering } from './interpreter/tiering';
import type { ToMain } from './interpreter/thread-link';
import { TypeScriptInterpreter } from './interpreter/typescript/typescript-interpreter';
import { log } from './log';
import { TSGPU_VERSION, typescriptVersion } from './package-info';
import { snapshotFollowUp } from './startup/snapshot-build';
import { takeWarmRegistry } from './startup/warm-start';
import type { WorkerData } from './server/worker';
import { connectionFileWarning, readConnectionFile } from './transport/connection-file';

/** Node's own warnings would land in the user's cell output; only the vm loader's is noise. */
function routeProcessWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && /vm\.USE_MAIN_CONTEXT_DEFAULT_LOADER/.test(warning.message)) return;
    process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
}

/**
 * `process.exit()` from a cell (a script's last line, a library giving up) ended the kernel with
 * SIGABRT (a native module's clean-up threw as the process went down), no reply, and every
 * variable lost. As IPython keeps its kernel for `sys.exit()`, the cell gets an error instead; the
 * kernel's own exits (shutdown, a crashed worker) run outside any cell.
 */
function keepKernelOnExit(): void {
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    if (currentCell() === undefined) return exit(code);
    throw Object.assign(new Error(`process.exit(${code ?? ''}) would end the kernel and lose every variable: the kernel keeps running. `
      + 'To stop it, shut the kernel down or restart it from the notebook.'), { name: 'ProcessExit' });
  }) as typeof process.exit;
}

/**
 * The launcher's allocator settings (launch-kernel.sh) were read by glibc as the process started;
 * cells and the processes they start get the environment the user had.
 */
function forgetLauncherDefaults(): void {
  for (const name of (process.env['TSGPU_MALLOC_DEFAULTS'] ?? '').split(' ')) {
    if (name.startsWith('MALLOC_') || name === 'GLIBC_TUNABLES') delete process.env[name];
  }
  delete process.env['TSGPU_MALLOC_DEFAULTS'];
}

/** Where a SIGINT goes: nowhere until the interpreter exists, then to the running cell. */
let interruptCell = (): void => undefined;
let listeningForSigint = false;

/**
 * The protocol worker answers kernel_info; the client waits for nothing else, so it starts first.
 * SIGINT arrives from it (interrupts, shutdown) and, outside a cell, from a terminal's Ctrl-C:
 * neither may ever kill the user's state, even during start-up, so the listener comes before it.
 */
function startProtocolWorker(connectionFile: string): Worker {
  forgetLauncherDefaults();
  if (!listeningForSigint) {
    listeningForSigint = true;
    process.on('SIGINT', () => interruptCell());
  }
  const connection = readConnectionFile(connectionFile);
  const data: WorkerData = { connection, identity: { version: TSGPU_VERSION, typescriptVersion: typescriptVersion() } };
  return new Worker(path.join(__dirname, 'server', 'worker.js'), { workerData: data, stdout: false, stderr: false });
}

let earlyWorker: { connectionFile: string; worker: Worker } | null = null;

/**
 * Called by a start-up snapshot's entry as soon as the blob has loaded, before the CLI runs: the
 * worker's thread and isolate take ~0.1-0.2 s to start, during which the main thread sets the
 * kernel up. A connection file it cannot read is left for runKernel to report.
 */
export function startProtocolWorkerEarly(connectionFile: string): void {
  try {
    earlyWorker = { connectionFile, worker: startProtocolWorker(connectionFile) };
  } catch {
    earlyWorker = null;
  }
}

export function runKernel(connectionFile: string): void {
  const early = earlyWorker?.connectionFile === connectionFile ? earlyWorker.worker : null;
  if (earlyWorker !== null && early === null) void earlyWorker.worker.terminate();
  earlyWorker = null;
  const worker = early ?? startProtocolWorker(connectionFile);
  const warning = connectionFileWarning(connectionFile);
  if (warning) log(`warning: ${warning}`);
  const devices = new DeviceLayer({
    locate: (frames) => interpreter.callerLocation(frames),
    locateLater: () => interpreter.callerLocationLater(),
    emit: (event) => host.emit(event),
    cells: cellWork,
  });
  // The compiler loads only now, after the worker started: the client's kernel_info need not wait for it.
  // (A kernel started from a snapshot has it loaded already, and the standard library parsed.)
  const registry = takeWarmRegistry();
  const interpreter: TypeScriptInterpreter = new TypeScriptInterpreter({
    ts: require('typescript') as typeof import('typescript'),
    ...(registry ? { registry } : {}),
    directory: process.cwd(),
    magics: createMagics(),
    hooks: devices,
    emit: (event) => host.emit(event),
    requestInput: (prompt, password) => host.requestInput(prompt, password),
    devices: () => devices.control(),
    synchronize: () => devices.synchronize(),
    transferTotals: () => devices.transferTotals(),
    cells: { settle: () => host.settle(), run: (cell) => host.run(cell) },
  });
  const host: InterpreterHost = new InterpreterHost(interpreter, worker);
  host.capture.install();
  routeProcessWarnings();
  keepKernelOnExit();
  // Started by the kernelspec's launcher, but not from a (current) snapshot: build one for the next start.
  const rebuildSnapshot = snapshotFollowUp(registry !== null);
  // Loading the standard library into the checker takes most of a second: do it while the
  // client is still connecting, so the first cell does not wait for it.
  setImmediate(() => {
    // From here the kernel's own work (checking, emitting, completing) tiers up later than a cell's
    // code: tiering.ts. Not sooner: built-in modules loaded until now come from Node's code cache.
    useKernelTiering();
    interpreter.warmUp();
    rebuildSnapshot?.arm();
  });

  interruptCell = () => host.interruptBySignal();
  // A callback that throws after its cell ended is the user's error, not the kernel's.
  // An interrupted cell's leftover work ends by throwing the interrupt error: that is its stop, not
  // news for whichever cell runs now. These handlers run in the failing work's cell context, so they
  // write past the guard that refuses an interrupted cell's output.
  process.on('uncaughtException', (error) => {
    if (!isInterruptError(error)) host.capture.write('stderr', `Uncaught ${interpreter.strayErrorText(error)}\n`);
  });
  process.on('unhandledRejection', (reason) => {
    if (isInterruptError(reason)) return;
    host.capture.write('stderr', `Unhandled promise rejection: ${interpreter.strayErrorText(reason)}\n`);
  });

  worker.on('message', (message: ToMain) => {
    if (message.kind === 'exit') process.exit(message.code);
    else void (rebuildSnapshot ? rebuildSnapshot.track(host.serve(message)) : host.serve(message));
  });
  worker.on('error', (error) => {
    log(`protocol worker crashed: ${error.stack ?? error.message}`);
    process.exit(1);
  });
  worker.on('exit', (code) => process.exit(code));
}

/** `tsgpu kernel FILE`, from the CLI or a start-up snapshot: a kernel that cannot start says why in one line. */
export function runKernelOrExit(connectionFile: string): void {
  try {
    runKernel(connectionFile);
  } catch (error) {
    process.stderr.write(`tsgpu: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
