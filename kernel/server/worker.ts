// The protocol worker thread: sockets, signing, and the kernel core. User code never runs here,
// so heartbeat and control answer while a cell blocks the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { ToMain } from '../interpreter/thread-link';
import { log } from '../log';
import { type Outgoing, newSession } from '../protocol/messages';
import { ReplayGuard } from '../protocol/replay';
import { Signer } from '../protocol/sign';
import { FrameSlabs, isolateGc } from '../protocol/frame-slab';
import { decodeMessage, encodeMessage } from '../protocol/wire';
import type { ConnectionInfo } from '../transport/connection-file';
import { KernelSockets } from '../transport/sockets';
import type { KernelIdentity } from './handlers/kernel-info';
import { InterpreterClient } from './interpreter-client';
import { KernelCore } from './kernel-core';
import { watchParent } from './parent-watch';

export interface WorkerData {
  connection: ConnectionInfo;
  identity: KernelIdentity;
}

/** If the main thread is stuck in a synchronous cell it cannot exit by itself; this ends the process. */
const FORCED_EXIT_MS = 3000;
const INTERRUPT_AGAIN_MS = 100;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('kernel/server/worker must run as a worker thread');
  const { connection, identity } = workerData as WorkerData;
  const signer = new Signer(connection.key, connection.signature_scheme);
  const replay = new ReplayGuard();
  const session = newSession();
  const sockets = new KernelSockets(connection);
  await sockets.bind();

  const toMain = (message: ToMain): void => port.postMessage(message);
  let exiting = false;
  const exit = async (reason: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    log(`exiting: ${reason}`);
    // Sockets close here, in their own thread, before the process ends: terminating a worker
    // with open zeromq sockets aborts the process.
    await sockets.close();
    toMain({ kind: 'exit', code: 0 });
    // A running cell keeps the main thread from reading that message: interrupt it (again, in case
    // the cell only starts after the first signal), and end the process outright if even that
    // does not free the main thread.
    const interrupting = setInterval(() => process.kill(process.pid, 'SIGINT'), INTERRUPT_AGAIN_MS);
    process.kill(process.pid, 'SIGINT');
    setTimeout(() => {
      clearInterval(interrupting);
      process.kill(process.pid, 'SIGTERM');
    }, FORCED_EXIT_MS).unref();
  };

  const slabs = new FrameSlabs(isolateGc);
  const send = (channel: 'shell' | 'control' | 'stdin' | 'iopub', message: Outgoing): void => {
    void sockets.send(channel, encodeMessage(message, signer, slabs));
  };
  let core: KernelCore | null = null;
  const interpreter = new InterpreterClient(
    port,
    (event) => core?.publishStray(event),
    (prompt, password) => (core ? core.requestInput(prompt, password) : Promise.reject(new Error('kernel is starting'))),
  );
  core = new KernelCore(
    { send, publish: (message) => send('iopub', message) },
    interpreter,
    {
      interrupt: () => interpreter.interrupt(),
      shutdown: (restart) => void exit(restart ? 'shutdown_request (restart)' : 'shutdown_request'),
    },
    session,
    identity,
  );
  const kernel = core;
  sockets.listen((channel, frames) => {
    const decoded = decodeMessage(frames, signer, replay);
    if (!decoded.ok) {
      // Logged only: nothing about a rejected message ever goes back on the wire.
      log(`${channel}: dropped a message: ${decoded.reason}`);
      return;
    }
    kernel.receive(channel, decoded.message);
  });
  watchParent(() => void exit('parent process died'));
  log(`listening: shell ${connection.ip}:${connection.shell_port} (${connection.transport}), session ${session.id}`);
}

main().catch((error: unknown) => {
  log(`protocol worker failed to start: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
  parentPort?.postMessage({ kind: 'exit', code: 1 } satisfies ToMain);
});
