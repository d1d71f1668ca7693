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
  /** The first message: shared slots that tell each side which cell an interrupt is for (interrupt-line.ts). */
  | { kind: 'interrupt_line'; buffer: SharedArrayBuffer }
  /** Second: counts of stream chunks posted and published, so printing waits for the worker (output-backlog.ts). */
  | { kind: 'output_backlog'; buffer: SharedArrayBuffer }
  /** interrupt_request for the execute call `callId`: stops it where it awaits or before its script runs. */
  | { kind: 'interrupt'; callId: number }
  /** interrupt_request while no cell runs: the work earlier cells left running stops. */
  | { kind: 'stop_leftovers' }
  | { kind: 'exit'; code: number };

/** main -> worker */
export type ToWorker =
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'failure'; id: number; message: string }
  | { kind: 'output'; callId: number | null; event: OutputEvent }
  /**
   * After an execute call's result: its cell's closing outputs (finishCell, run by the main thread
   * at once) were sent under the execute's id, and are done; `failure` when finishCell threw.
   */
  | { kind: 'finished'; id: number; failure?: string }
  /** A cell called prompt(): ask the client through input_request on stdin. */
  | { kind: 'input_request'; id: number; prompt: string; password: boolean };
