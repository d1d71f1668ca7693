// A plain JavaScript interpreter behind the Interpreter interface: the protocol server's first
// language. Cells run in the kernel's own realm (runInThisContext), not a fresh vm context,
// because typed arrays and classes from another realm fail `instanceof` checks in libraries.
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { toMimeBundle } from '../display/mime-bundle';
import { completeAt, inspectAt } from './js-introspection';
import { cellFileName, toErrorOutcome } from './traceback';
import type {
  Completion, CompletenessStatus, ExecuteOptions, ExecuteOutcome, ExpressionValue, Inspection, Interpreter, OutputEvent,
} from './interpreter';

export class InterruptedError extends Error {
  constructor() {
    super('execution interrupted');
    this.name = 'Interrupted';
  }
}

interface CompiledCell {
  script: vm.Script;
  /** True when the cell used top-level await and runs inside an async function. */
  async: boolean;
}

const ASYNC_PREFIX = '(async () => {';
const dynamicImport = { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER };

function compileCell(code: string, filename: string): CompiledCell {
  try {
    return { script: new vm.Script(code, { filename, ...dynamicImport }), async: false };
  } catch (error) {
    if (!(error instanceof SyntaxError) || !/\bawait\b/.test(code)) throw error;
  }
  // Top-level await: run the cell as an async function body (on the same first line, so line
  // numbers in tracebacks stay the user's) and return the last statement's value when it is an
  // expression. The last statement starts after the last newline or some `;` on the last line.
  const body = code.trimEnd().replace(/;$/, '');
  const lineStart = body.lastIndexOf('\n') + 1;
  const splits = [lineStart];
  for (let at = body.indexOf(';', lineStart); at >= 0; at = body.indexOf(';', at + 1)) splits.push(at + 1);
  for (const split of splits.reverse()) {
    try {
      const source = `${ASYNC_PREFIX}${body.slice(0, split)} return (${body.slice(split)}\n);\n})()`;
      return { script: new vm.Script(source, { filename, ...dynamicImport }), async: true };
    } catch {
      // not an expression from here: try an earlier split
    }
  }
  return { script: new vm.Script(`${ASYNC_PREFIX}${code}\n})()`, { filename, ...dynamicImport }), async: true };
}

function isInterruptedBySignal(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
}

export class JavaScriptInterpreter implements Interpreter {
  private rejectPending: ((error: Error) => void) | null = null;

  constructor(workingDirectory: string = process.cwd()) {
    // Cells get `require` resolving from the notebook's folder, as a script there would.
    Object.assign(globalThis, { require: createRequire(path.join(workingDirectory, '<cell>')) });
  }

  /** Stops a cell that is awaiting (a sync loop is stopped by SIGINT through breakOnSigint). */
  interrupt(): void {
    this.rejectPending?.(new InterruptedError());
  }

  async execute(code: string, options: ExecuteOptions, emit: (event: OutputEvent) => void): Promise<ExecuteOutcome> {
    const interrupted = new Promise<never>((_resolve, reject) => {
      this.rejectPending = reject;
    });
    interrupted.catch(() => undefined);
    try {
      const cell = compileCell(code, cellFileName(options.executionCount));
      let value: unknown = cell.script.runInThisContext({ breakOnSigint: true, displayErrors: false });
      if (cell.async) value = await Promise.race([value, interrupted]);
      if (value !== undefined) emit({ type: 'execute_result', ...toMimeBundle(value) });
      return { status: 'ok' };
    } catch (error) {
      if (isInterruptedBySignal(error)) return toErrorOutcome(new InterruptedError());
      return toErrorOutcome(error);
    } finally {
      this.rejectPending = null;
    }
  }

  async evaluate(expression: string): Promise<ExpressionValue> {
    try {
      const value: unknown = new vm.Script(`(${expression})`, { filename: '<user_expression>' })
        .runInThisContext({ breakOnSigint: true, displayErrors: false });
      return { status: 'ok', ...toMimeBundle(value) };
    } catch (error) {
      return toErrorOutcome(error);
    }
  }

  async complete(code: string, cursorPos: number): Promise<Completion> {
    return completeAt(code, cursorPos);
  }

  async inspect(code: string, cursorPos: number, detailLevel: number): Promise<Inspection> {
    return inspectAt(code, cursorPos, detailLevel);
  }

  async isComplete(code: string): Promise<CompletenessStatus> {
    try {
      compileCell(code, '<is_complete>');
      return { status: 'complete' };
    } catch (error) {
      if (!(error instanceof SyntaxError)) return { status: 'unknown' };
      // V8 reports a cell that stops mid-construct as running out of input.
      if (/Unexpected end of input|Unterminated template literal/.test(error.message)) return { status: 'incomplete', indent: '  ' };
      return { status: 'invalid' };
    }
  }
}
