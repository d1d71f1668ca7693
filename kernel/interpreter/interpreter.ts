// The narrow interface between the kernel core (protocol bookkeeping) and a language.
// The core never sees how code runs; the interpreter never sees a socket or a message header.
import type { JsonObject } from '../protocol/messages';

export type MimeBundle = Record<string, string | JsonObject>;

/**
 * When a display was made (ISO 8601), for its message header's date: the protocol thread publishes
 * it a moment later, and a display redrawn every 100 ms must be dated when it was drawn.
 */
type CreatedAt = { createdAt?: string };

/** What a running cell emits, in order. The core turns each into an iopub message. */
export type OutputEvent =
  | { type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { type: 'display_data'; data: MimeBundle; metadata: JsonObject; displayId?: string } & CreatedAt
  | { type: 'update_display_data'; data: MimeBundle; metadata: JsonObject; displayId: string } & CreatedAt
  | { type: 'execute_result'; data: MimeBundle; metadata: JsonObject }
  | { type: 'clear_output'; wait: boolean };

export interface ExecuteOptions {
  silent: boolean;
  storeHistory: boolean;
  allowStdin: boolean;
  /** The count this cell shows as `In [n]`: used to name the cell in tracebacks. */
  executionCount: number;
}

export interface ErrorOutcome {
  status: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}
export type ExecuteOutcome = { status: 'ok' } | ErrorOutcome;

export type ExpressionValue = { status: 'ok'; data: MimeBundle; metadata: JsonObject } | ErrorOutcome;

export interface Completion {
  matches: string[];
  /** Unicode code point offsets into the cell, as the spec requires since protocol 5.2. */
  cursorStart: number;
  cursorEnd: number;
  metadata: JsonObject;
}

export interface Inspection {
  found: boolean;
  data: MimeBundle;
}

export type CompletenessStatus =
  | { status: 'complete' }
  | { status: 'incomplete'; indent: string }
  | { status: 'invalid' }
  | { status: 'unknown' };

export interface Interpreter {
  execute(code: string, options: ExecuteOptions, emit: (event: OutputEvent) => void): Promise<ExecuteOutcome>;
  /** After the cell's result or error is out: outputs that close the cell (the device report). */
  finishCell(executionCount: number, emit: (event: OutputEvent) => void): Promise<void>;
  evaluate(expression: string): Promise<ExpressionValue>;
  complete(code: string, cursorPos: number): Promise<Completion>;
  inspect(code: string, cursorPos: number, detailLevel: number): Promise<Inspection>;
  isComplete(code: string): Promise<CompletenessStatus>;
  /** Stops the running cell where it awaits (a synchronous loop only SIGINT can break). */
  interrupt?(): void;
  /** No cell runs: stops the work earlier cells left running (their timers cleared, their work's next step throws). */
  stopLeftovers?(): void;
}

/**
 * How a language runs a cell's compiled code so that an interrupt stops that cell and no other
 * (interrupt-line.ts says why this takes care).
 */
export interface CellRunner {
  /** Resolves once a SIGINT that reached the process so far has been handled. */
  settle(): Promise<void>;
  /**
   * Calls `cell` (with the global object as `this`) where SIGINT stops its synchronous part; throws
   * ERR_SCRIPT_EXECUTION_INTERRUPTED if it was stopped, or if its cell was interrupted before.
   */
  run(cell: () => unknown): unknown;
}
