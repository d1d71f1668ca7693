// The TypeScript interpreter: magics, then type checking across cells (checker.ts), then the
// transpiled cell run in the kernel's own realm with REPL semantics (cell-rewrite.ts).
// Cells run in this realm, not a fresh vm context: typed arrays and classes from another realm
// fail `instanceof` checks in libraries such as tfjs.
import vm from 'node:vm';
import type ts from 'typescript';
import { createDisplayApi, isDisplayHandle } from '../../display/display-api';
import { toMimeBundle } from '../../display/mime-bundle';
import { lsmagicMagic } from '../../../magics/lsmagic';
import { parseCell } from '../../../magics/parser';
import { MagicError, type MagicContext, MagicRegistry, type TypecheckMode } from '../../../magics/registry';
import { typecheckMagic } from '../../../magics/typecheck';
import { codePointLength, utf16Index } from '../code-points';
import { runtimeErrorHint } from '../hints';
import type {
  Completion, CompletenessStatus, ErrorOutcome, ExecuteOptions, ExecuteOutcome, ExpressionValue, Inspection, Interpreter, OutputEvent,
} from '../interpreter';
import { cellFileName, toErrorOutcome } from '../traceback';
import { CellChecker } from './checker';
import { typeErrorOutcome, typeWarningText } from './diagnostics';
import { CellRuntime } from './runtime';
import { type TranspiledCell, transpileCell } from './transpile';

export class InterruptedError extends Error {
  constructor() {
    super('execution interrupted');
    this.name = 'Interrupted';
  }
}

const COMPLETION_KINDS: Record<string, string> = {
  function: 'function', method: 'function', 'local function': 'function', constructor: 'function',
  class: 'class', 'local class': 'class', interface: 'class', type: 'class', enum: 'class',
  module: 'module', 'external module name': 'module', keyword: 'keyword', variable: 'instance',
  property: 'property', getter: 'property', setter: 'property', 'enum member': 'property',
  var: 'instance', let: 'instance', const: 'instance', 'local var': 'instance', alias: 'instance', parameter: 'param',
};

interface Dependencies {
  ts: typeof ts;
  directory: string;
  /** Sends output of the running cell (or, between cells, of the last one). */
  emit: (event: OutputEvent) => void;
  /** Asks the client for a line of input (input_request). */
  requestInput: (prompt: string, password: boolean) => Promise<string>;
}

export class TypeScriptInterpreter implements Interpreter {
  private readonly t: typeof ts;
  private readonly checker: CellChecker;
  private readonly runtime: CellRuntime;
  private readonly magics = new MagicRegistry();
  private readonly cells = new Map<string, TranspiledCell>();
  private typecheck: TypecheckMode = 'on';
  private rejectPending: ((error: Error) => void) | null = null;

  constructor(deps: Dependencies) {
    this.t = deps.ts;
    this.checker = new CellChecker(deps.ts, deps.directory);
    this.runtime = new CellRuntime(deps.ts, deps.directory);
    this.runtime.install();
    this.magics.register(typecheckMagic).register(lsmagicMagic(this.magics));
    const api = createDisplayApi(deps.emit);
    const prompt = (message = '', options: { password?: boolean } = {}): Promise<string> => deps.requestInput(message, options.password === true);
    Object.assign(globalThis, { display: api.display, clearOutput: api.clearOutput, prompt });
    this.runtime.builtins.set('tsgpu', { ...api, prompt, default: { ...api, prompt } });
  }

  warmUp(): void {
    this.checker.warmUp();
  }

  /** Stops a cell that is awaiting (a sync loop is stopped by SIGINT through breakOnSigint). */
  interrupt(): void {
    this.rejectPending?.(new InterruptedError());
  }

  async execute(cell: string, options: ExecuteOptions, emit: (event: OutputEvent) => void): Promise<ExecuteOutcome> {
    const interrupted = new Promise<never>((_resolve, reject) => {
      this.rejectPending = reject;
    });
    interrupted.catch(() => undefined);
    const fileName = cellFileName(options.executionCount);
    let code = '';
    let commit: (() => void) | null = null;
    try {
      // One turn of the event loop first: an interrupt sent right behind this cell (while the
      // checker was still warming up, say) lands here and the cell does not start.
      await Promise.race([new Promise((resolve) => setImmediate(resolve)), interrupted]);
      const parsed = parseCell(cell);
      for (const call of [...(parsed.cellMagic ? [parsed.cellMagic] : []), ...parsed.lineMagics]) await this.runMagic(call.name, call.args);
      code = parsed.code;
      if (code.trim() === '') return { status: 'ok' };

      const transpiled = transpileCell(this.t, code, `${fileName}.ts`);
      if (transpiled.syntaxErrors.length > 0) return this.syntaxErrorOutcome(code, transpiled.syntaxErrors);
      const checked = this.checker.check(code, this.typecheck !== 'off');
      const errors = checked.diagnostics.filter((diagnostic) => diagnostic.category === 'error');
      if (errors.length > 0 && this.typecheck === 'on') return typeErrorOutcome(code, errors);
      if (errors.length > 0) process.stderr.write(typeWarningText(code, errors));

      this.cells.set(fileName, transpiled);
      // From here on the cell's declarations exist at run time, even if it throws half way.
      commit = checked.commit;
      const script = new vm.Script(transpiled.javascript, { filename: fileName });
      const running = script.runInThisContext({ breakOnSigint: true, displayErrors: false }) as Promise<unknown>;
      const value = await Promise.race([running, interrupted]);
      if (value !== undefined && !isDisplayHandle(value)) emit({ type: 'execute_result', ...toMimeBundle(value) });
      return { status: 'ok' };
    } catch (error) {
      if (error instanceof MagicError) return { status: 'error', ename: error.name, evalue: error.message, traceback: [`${error.name}: ${error.message}`] };
      if (error instanceof InterruptedError || (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
        return toErrorOutcome(new InterruptedError());
      }
      return this.runtimeError(error, code, fileName);
    } finally {
      this.rejectPending = null;
      if (commit) {
        commit();
        // Folding the cell into the history costs a few ms: spend them after the reply is out.
        setImmediate(() => this.checker.flush());
      }
    }
  }

  async evaluate(expression: string): Promise<ExpressionValue> {
    try {
      const transpiled = transpileCell(this.t, expression, '<user_expression>.ts');
      const value = await (new vm.Script(transpiled.javascript, { filename: '<user_expression>' })
        .runInThisContext({ breakOnSigint: true, displayErrors: false }) as Promise<unknown>);
      return { status: 'ok', ...toMimeBundle(value) };
    } catch (error) {
      return toErrorOutcome(error);
    }
  }

  async complete(cell: string, cursorPos: number): Promise<Completion> {
    const code = parseCell(cell).code;
    const cursor = utf16Index(code, cursorPos);
    const wordStart = cursor - (/[\w$]*$/.exec(code.slice(0, cursor))?.[0].length ?? 0);
    const prefix = code.slice(wordStart, cursor);
    const info = this.checker.completions(code, cursor);
    const entries = (info?.entries ?? [])
      .filter((entry) => entry.name.startsWith(prefix) && !entry.name.startsWith('__tsgpu'))
      .sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name));
    const start = codePointLength(code.slice(0, wordStart));
    return {
      matches: entries.map((entry) => entry.name),
      cursorStart: start,
      cursorEnd: cursorPos,
      metadata: {
        _jupyter_types_experimental: entries.map((entry) => ({
          start, end: cursorPos, text: entry.name, type: this.completionType(entry),
        })),
      },
    };
  }

  private completionType(entry: ts.CompletionEntry): string {
    const kind = entry.kind === this.t.ScriptElementKind.alias ? this.checker.earlierKind(entry.name) ?? entry.kind : entry.kind;
    return COMPLETION_KINDS[kind] ?? kind;
  }

  async inspect(cell: string, cursorPos: number, detailLevel: number): Promise<Inspection> {
    const t = this.t;
    const code = parseCell(cell).code;
    const cursor = utf16Index(code, cursorPos);
    // Shift-Tab is usually pressed right after a name: look at the character before the cursor too.
    const info = this.checker.quickInfo(code, cursor) ?? (cursor > 0 ? this.checker.quickInfo(code, cursor - 1) : undefined);
    // An unresolved name still gets quick info (kind ''); it is not something to show.
    if (!info || info.kind === t.ScriptElementKind.unknown) return { found: false, data: {} };
    // Names from earlier cells reach this one as imports: show what they are, not the import.
    const signature = t.displayPartsToString(info.displayParts).replace(/^\(alias\) /, '').replace(/\nimport [\w$]+$/, '');
    const documentation = t.displayPartsToString(info.documentation);
    const tags = detailLevel > 0
      ? (info.tags ?? []).map((tag) => `@${tag.name}${tag.text ? ` ${t.displayPartsToString(tag.text)}` : ''}`)
      : [];
    const text = [signature, documentation, ...tags].filter(Boolean).join('\n\n');
    const markdown = [`\`\`\`typescript\n${signature}\n\`\`\``, documentation, ...tags].filter(Boolean).join('\n\n');
    return { found: true, data: { 'text/plain': text, 'text/markdown': markdown } };
  }

  async isComplete(cell: string): Promise<CompletenessStatus> {
    const code = parseCell(cell).code;
    const diagnostics = this.t.transpileModule(code, { reportDiagnostics: true, compilerOptions: { target: this.t.ScriptTarget.ES2022 } }).diagnostics ?? [];
    if (diagnostics.length === 0) return { status: 'complete' };
    // Problems only at the very end ("'}' expected", an open template) mean the user is not done.
    const atEnd = diagnostics.every((diagnostic) => (diagnostic.start ?? 0) >= code.trimEnd().length
      || /^Unterminated template literal/.test(this.t.flattenDiagnosticMessageText(diagnostic.messageText, ' ')));
    if (!atEnd) return { status: 'invalid' };
    const lastLine = code.trimEnd().split('\n').at(-1) ?? '';
    const indent = /^\s*/.exec(lastLine)?.[0] ?? '';
    return { status: 'incomplete', indent: /[{([]\s*$/.test(lastLine) ? `${indent}  ` : indent };
  }

  private syntaxErrorOutcome(code: string, diagnostics: readonly ts.Diagnostic[]): ErrorOutcome {
    const t = this.t;
    const file = t.createSourceFile('cell.ts', code, t.ScriptTarget.ES2022);
    return typeErrorOutcome(code, diagnostics.map((diagnostic) => {
      const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      return {
        line: line + 1, column: character + 1, length: diagnostic.length ?? 0, code: diagnostic.code,
        message: t.flattenDiagnosticMessageText(diagnostic.messageText, '\n'), category: 'error' as const,
      };
    }));
  }

  private async runMagic(name: string, args: string): Promise<void> {
    const wantsHelp = name.endsWith('?');
    const magic = this.magics.get(wantsHelp ? name.slice(0, -1) : name);
    const print = (text: string): void => void process.stdout.write(text);
    if (wantsHelp) {
      print(`${magic.usage}\n  ${magic.help}\n`);
      return;
    }
    const interpreter = this;
    const context: MagicContext = {
      get typecheck() { return interpreter.typecheck; },
      set typecheck(mode) { interpreter.typecheck = mode; },
      print,
    };
    await magic.run(args, context);
  }

  /** The error with frames in cell line numbers (source-mapped) and the failing line shown. */
  private runtimeError(error: unknown, code: string, fileName: string): ErrorOutcome {
    const outcome = toErrorOutcome(error, (file, line, column) => this.cells.get(file)?.toCell(line, column) ?? null);
    const top = /<cell \d+>:(\d+):(\d+)/.exec(outcome.traceback.find((line) => line.includes(`${fileName}:`)) ?? '');
    if (top) {
      const lineNumber = Number(top[1]);
      const source = code.split('\n')[lineNumber - 1];
      if (source !== undefined) {
        const gutter = `${lineNumber} | `;
        outcome.traceback.push(`${gutter}${source}`, `${' '.repeat(gutter.length + Number(top[2]) - 1)}^`);
      }
    }
    const hint = runtimeErrorHint(outcome.ename, outcome.evalue);
    if (hint) outcome.traceback.push(hint);
    return outcome;
  }
}
