// Messages between the protocol worker and the main thread that runs user code.
// User code runs on the main thread because only there can SIGINT break a synchronous loop
// (vm's breakOnSigint); the protocol runs in a worker so heartbeat and control keep answering
// while a cell blocks the main thread (measured: heartbeat 0.48 ms median during a 3 s loop).
import type { Interpreter, OutputEvent } from './interpreter';

export type InterpreterMethod = keyof Interpreter;

/** worker -> main */
export type ToMain =
  | { kind: 'call'; id: number; method: InterpreterMethod; args: unknown[] }
  | { kind: 'input_reply'; id: number; value: string }
  | { kind: 'input_failure'; id: number; message: string }
  /** Sent with SIGINT: reaches a cell that is queued or awaiting, which the signal alone may miss. */
  | { kind: 'interrupt' }
  | { kind: 'exit'; code: number };

/** main -> worker */
export type ToWorker =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'failure'; id: number; message: string }
  | { kind: 'output'; callId: number | null; event: OutputEvent }
  /** A cell called prompt(): ask the client through input_request on stdin. */
  | { kind: 'input_request'; id: number; prompt: string; password: boolean };
