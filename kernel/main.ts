// `tsgpu kernel CONNECTION_FILE`: the kernel process. The main thread runs user code; the
// protocol runs in a worker (see interpreter/thread-link.ts for why the split falls this way).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createMagics } from '../magics/index';
import { DeviceLayer } from './device/device-layer';
import { cellWork, isInterruptError } from './interpreter/cell-context';
import { InterpreterHost } from './interpreter/host';
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
 * The launcher's allocator settings (launch-kernel.sh) were read by glibc as the process started;
 * cells and the processes they start get the environment the user had.
 */
function forgetLauncherDefaults(): void {
  for (const name of (process.env['TSGPU_MALLOC_DEFAULTS'] ?? '').split(' ')) {
    if (name.startsWith('MALLOC_')) delete process.env[name];
  }
  delete process.env['TSGPU_MALLOC_DEFAULTS'];
}

export function runKernel(connectionFile: string): void {
  forgetLauncherDefaults();
  const connection = readConnectionFile(connectionFile);
  const warning = connectionFileWarning(connectionFile);
  if (warning) log(`warning: ${warning}`);
  // Before anything else: SIGINT arrives from the worker (interrupts, shutdown) and, outside a
  // cell, from a terminal's Ctrl-C. Neither may ever kill the user's state, even during start-up.
  let interruptCell = (): void => undefined;
  process.on('SIGINT', () => interruptCell());
  const data: WorkerData = { connection, identity: { version: TSGPU_VERSION, typescriptVersion: typescriptVersion() } };
  const worker = new Worker(path.join(__dirname, 'server', 'worker.js'), { workerData: data, stdout: false, stderr: false });
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
  // Started by the kernelspec's launcher, but not from a (current) snapshot: build one for the next start.
  const rebuildSnapshot = snapshotFollowUp(registry !== null);
  // Loading the standard library into the checker takes most of a second: do it while the
  // client is still connecting, so the first cell does not wait for it.
  setImmediate(() => {
    interpreter.warmUp();
    rebuildSnapshot?.arm();
  });

  interruptCell = () => host.interruptBySignal();
  // A callback that throws after its cell ended is the user's error, not the kernel's.
  // An interrupted cell's leftover work ends by throwing the interrupt error: that is its stop, not
  // news for whichever cell runs now. These handlers run in the failing work's cell context, so they
  // write past the guard that refuses an interrupted cell's output.
  process.on('uncaughtException', (error) => {
    if (!isInterruptError(error)) host.capture.write('stderr', `Uncaught ${error.stack ?? String(error)}\n`);
  });
  process.on('unhandledRejection', (reason) => {
    if (isInterruptError(reason)) return;
    host.capture.write('stderr', `Unhandled promise rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}\n`);
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
