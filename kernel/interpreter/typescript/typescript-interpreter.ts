// The TypeScript interpreter: magics, then type checking across cells (checker.ts), then the
// transpiled cell run in the kernel's own realm with REPL semantics (cell-rewrite.ts).
// Cells run in this realm, not a fresh vm context: typed arrays and classes from another realm
// fail `instanceof` checks in libraries such as tfjs.
import { createRequire } from 'node:module';
import path from 'node:path';
import type ts from 'typescript';
import { createDisplayApi, isDisplayHandle } from '../../display/display-api';
import { createProgress, type TransferTotals } from '../../display/progress';
import { createTslab } from '../../display/tslab-compat';
import { log } from '../../log';
import { TSGPU_VERSION } from '../../package-info';
import { toMimeBundle } from '../../display/mime-bundle';
import { renderReport } from '../../display/report/render';
import type { MagicContext, TypecheckMode } from '../../../magics/context';
import { type MagicCall, magicsBelowCode, parseCell } from '../../../magics/parser';
import { MagicError, magicHelp, type MagicRegistry } from '../../../magics/registry';
import type { CellHooks, CellLocation } from '../cell-hooks';
import { CellContext, type CellTask, currentCell, detach, InterruptedError, isInterruptError, runInCell, stopIfInterrupted } from '../cell-context';
import { useCellTiering, useKernelTiering } from '../tiering';
import { settleUnawaited, type UnawaitedCall } from '../unawaited';
import { installPromiseDisplay, promisedCall } from '../promise-display';
import { callTextAt } from './call-text';
import { cellSource } from './loop-lines';
import { type ReceiverKind, receiverKindOf, runtimeErrorHint } from '../hints';
import type {
  CellRunner, Completion, CompletenessStatus, ErrorOutcome, ExecuteOptions, ExecuteOutcome, ExpressionValue, Inspection, Interpreter,
  OutputEvent,
} from '../interpreter';
import { cellFileName, shownFileName, toErrorOutcome } from '../traceback';
import { CellChecker } from './checker';
import { reservedNameUse } from './reserved-names';
import { type CheckerConfig, configChange, configNotice, configStamp, describeConfig, loadCheckerConfig, sameChoices } from './compiler-options';
import { declarationWarningText, typeErrorOutcome, typeWarningText } from './diagnostics';
import { Introspection } from './introspection';
import { localModuleSources } from './local-modules';
import { CellRuntime, localFileFor } from './runtime';
import { placeInCell, quotedSource } from './sub-cell';
import { completeKernelWord, magicAt } from './kernel-words';
import { placeMagicLines, RUN_MAGIC_LINE } from './magic-lines';
import { codePointLength, utf16Index } from '../code-points';
import { type CellMapper, CellTranspiler, emitOptionsOf, type TranspiledCell } from './transpile';

export { InterruptedError };

/**
 * Node's declarations load only once a cell has run and the kernel has then sat this long without
 * one: cells sent one after another (run all, `tsgpu run`) never wait on them.
 */
const IDLE_BEFORE_LOADING_MS = 500;
/** A cell that is `%typecheck` alone: it prints the options in force, the config file's warnings among them. */
const BARE_TYPECHECK = /^\s*%typecheck\s*$/;

/** A cell that must not run (syntax or type errors): carries the error the user sees. */
class CellRefused extends Error {
  constructor(readonly outcome: ErrorOutcome) {
    super(outcome.evalue);
  }
}

/**
 * tslab's JSDoc pragmas change how a cell runs; the ones tsgpu does not implement say so rather
 * than run the cell some other way.
 */
function unsupportedPragma(code: string): string | null {
  const header = /^\s*\/\*\*([\s\S]*?)\*\//.exec(code)?.[1] ?? '';
  const pragma = /@(module|jsx|browser|node)\b/.exec(header)?.[1];
  if (!pragma || pragma === 'node') return null; // @node is how every cell runs here
  const what: Record<string, string> = {
    module: 'cells declared as modules (/** @module name */, imported by later cells) are not supported yet: put the code in a .ts file next to the notebook and import it',
    jsx: 'JSX cells (/** @jsx */) are not supported yet',
    browser: 'cells run in the browser (/** @browser */) are not supported: tsgpu runs cells in Node.js',
  };
  return what[pragma] ?? null;
}

/**
 * What `name` was in "name.cuda is not a function": a cell's top-level name is a global, so it can
 * be looked at without running anything; a literal (`[1, 2].cuda()`) says what it is.
 */
function receiverOfFailedCall(message: string): ReceiverKind {
  const receiver = /^(.+)\.\w+ is not a function$/.exec(message)?.[1] ?? '';
  if (/^[[\'"`]/.test(receiver)) return 'array';
  // "x.to(...).matMul is not a function": what a move or a read returns is a Promise.
  if (/\.(to|cuda|cpu|item|data|array)\(\.\.\.\)$/.test(receiver)) return 'promise';
  if (!/^[A-Za-z_$][\w$]*$/.test(receiver)) return 'unknown';
  const holder = Object.getOwnPropertyDescriptor(globalThis, receiver);
  // A getter could run user code: only a plain value is looked at.
  return holder && 'value' in holder ? receiverKindOf(holder.value) : 'unknown';
}

interface Dependencies {
  ts: typeof ts;
  /** Library files parsed already (a start-up snapshot's), for the checker to reuse. */
  registry?: ts.DocumentRegistry;
  directory: string;
  magics: MagicRegistry;
  hooks: CellHooks;
  /** Sends output of the running cell (or, between cells, of the last one). */
  emit: (event: OutputEvent) => void;
  /** Asks the client for a line of input (input_request). */
  requestInput: (prompt: string, password: boolean) => Promise<string>;
  /** The device layer for magics, loaded on first use. */
  devices: MagicContext['devices'];
  synchronize: () => Promise<void>;
  /** Moves so far, for progress(): zeros until the device layer loads. */
  transferTotals: () => TransferTotals;
  /** Runs cells so that an interrupt stops only the cell it was sent to. */
  cells: CellRunner;
}

/**
 * A cell's interrupt, for its work to race against. Promise.race against one long-lived
 * `interrupted` promise left a reaction on it per race, holding that race's result until the cell
 * ended: each loop of %timeit kept its result, 811 MiB of tensors on gpu:0 that no code reached.
 * Here a race that settles takes its listener back.
 */
class Interruption {
  private error: Error | null = null;
  private readonly waiting = new Set<(error: Error) => void>();

  interrupt(error: Error): void {
    if (this.error !== null) return;
    this.error = error;
    for (const reject of this.waiting) reject(error);
    this.waiting.clear();
  }

  /** Settles as `work` does, or rejects with the interrupt if that comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.error !== null) {
        reject(this.error);
        return;
      }
      this.waiting.add(reject);
      work.then((value) => {
        this.waiting.delete(reject);
        resolve(value);
      }, (error: unknown) => {
        this.waiting.delete(reject);
        reject(error);
      });
    });
  }
}

interface RunningCell {
  executionCount: number;
  fileName: string;
  interruption: Interruption;
  /** Everything the cell's code starts belongs to this (cell-context.ts). */
  context: CellContext;
  /** The cell's code after magics (magic lines blanked): what runs. */
  code: string;
  /** The cell as the user wrote it: what messages about its lines quote. */
  cell: string;
  /** Moves and readbacks still in flight when the cell's code ended (not awaited, or cut short by an interrupt). */
  leftRunning: CellTask[];
  /** Promises of tensor reads and moves the cell printed (console.log) instead of awaiting: the method and the line. */
  printedPromises: { operation: string; line: number | null }[];
  /** Line magics that run at their place in the code (magic-lines.ts), by index. */
  placedMagics: (() => Promise<void>)[];
}

/** A cell's file name in a stack frame: `<cell 12>`, or `<cell 12.3>` for code a cell magic compiled. */
const CELL_FILE = /(<cell (\d+)(?:\.\d+)?>)$/;

export class TypeScriptInterpreter implements Interpreter {
  private readonly t: typeof ts;
  private readonly checker: CellChecker;
  private readonly introspection: Introspection;
  private readonly runtime: CellRuntime;
  private readonly transpiler: CellTranspiler;
  /**
   * Per cell that ran, by file name: how its frames map back to its lines, for as long as its
   * functions may be called (an earlier cell's function throwing in a later cell).
   */
  private readonly cells = new Map<string, CellMapper>();
  private typecheck: TypecheckMode = 'on';
  /** The cell running now, and the last one that ran (its end reports what it left running). */
  private running: RunningCell | null = null;
  private lastCell: RunningCell | null = null;
  /** The contexts of the cells run so far that something still holds (see stopLeftovers). */
  private earlierCells: WeakRef<CellContext>[] = [];
  /** Sub-cells a magic runs (%time, %timeit) get file names of their own. */
  private subCells = 0;
  /** Resolves once progress displays have sent their last, throttled draw. */
  private progressSettled: () => Promise<void> = () => Promise.resolve();
  /** Cells begun since start: the background load of Node's declarations waits for a pause between them. */
  private cellsStarted = 0;
  /** performance.now() when a cell last started or ended: the parsing ahead waits for a quiet spell. */
  private lastActivity = -Infinity;
  /** What the first cell's stderr says about the user's tsconfig.json (ignored options, a broken file). */
  private configNotice: string | null;
  /** Whether that notice is the start's (all of it in what `%typecheck` lists), not a change's. */
  private configNoticeAtStart = true;

  constructor(private readonly deps: Dependencies) {
    this.t = deps.ts;
    const config = loadCheckerConfig(deps.ts, deps.directory);
    this.configNotice = configNotice(config);
    if (this.configNotice !== null) log(this.configNotice.trimEnd());
    this.checker = new CellChecker(deps.ts, deps.directory, config, deps.registry);
    this.introspection = new Introspection(deps.ts, this.checker);
    this.runtime = new CellRuntime(deps.ts, deps.directory);
    this.transpiler = new CellTranspiler(deps.ts);
    this.transpiler.configure(config.options);
    this.runtime.moduleEmitOptions = emitOptionsOf(config.options);
    this.runtime.install();
    // Not enumerable: the cell's code calls it, the user never sees it.
    Object.defineProperty(globalThis, RUN_MAGIC_LINE, {
      configurable: true,
      value: (index: number): Promise<void> => {
        const run = this.running?.placedMagics[index];
        if (!run) throw new Error(`no line magic ${index} in the running cell`);
        return run();
      },
    });
    installPromiseDisplay((operation) => {
      const running = this.running;
      if (!running) return;
      const where = this.callerLocation();
      running.printedPromises.push({ operation, line: where?.cell === running.executionCount ? where.line : null });
    });
    // Output from an interrupted cell's leftover work throws instead of landing in a later cell.
    const cellEmit = (event: OutputEvent): void => {
      stopIfInterrupted();
      deps.emit(event);
    };
    const api = createDisplayApi(cellEmit);
    const prompt = (message = '', options: { password?: boolean } = {}): Promise<string> => {
      stopIfInterrupted();
      return deps.requestInput(message, options.password === true);
    };
    // Cells get `require` resolving from the notebook's folder, as a script there would.
    const require = this.runtime.requireFor(createRequire(path.join(deps.directory, '[cell]')));
    // A bar's last draw says "interrupted" when its cell is; drawing it is the kernel's, so it is not refused.
    const { progress, settled } = createProgress(deps.emit, deps.transferTotals, (stop) => currentCell()?.onInterrupt(stop) ?? (() => undefined));
    this.progressSettled = settled;
    Object.assign(globalThis, { display: api.display, clearOutput: api.clearOutput, plot: api.plot, prompt, progress, require, detach });
    const exported: Record<string, unknown> = { ...api, prompt, progress, detach };
    // The tensor API is installed by the device layer, which loads before a cell that names it runs.
    for (const name of ['tf', 'asTensor', 'device', 'bestDevice', 'withDevice']) {
      Object.defineProperty(exported, name, { enumerable: true, get: () => (globalThis as Record<string, unknown>)[name] });
    }
    this.runtime.builtins.set('tsgpu', Object.defineProperty(Object.create(exported) as Record<string, unknown>, 'default', { value: exported, enumerable: true }));
    const tslab = createTslab(cellEmit, { tslab: `tsgpu ${TSGPU_VERSION}`, typescript: deps.ts.version, node: process.version });
    this.runtime.fallbacks.set('tslab', { ...tslab, default: tslab });
  }

  /**
   * Readies the checker without Node's declarations (what a first cell needs), then, once a cell
   * has run and no cell is running, loads those too: the first cell waits only for what it uses.
   * Idle time before the first cell does not count: a kernel started from a snapshot is warm
   * before its client has connected, and loading them then (seconds, blocking) would land on the
   * client's first request.
   *
   * Their files are parsed one at a time first, while the kernel stays idle (the largest takes
   * about 0.1 s of CPU; see prefetchDeferredTypes), so the load, or a type error that needs them,
   * finds them parsed and bound: it took 1.2–1.6 s of CPU in one block, now about 0.1 s, and a
   * request that arrives meanwhile waits for one file at most.
   * Parsing them from the start instead slowed start -> kernel_info_reply (1.06x -> 1.22x ipykernel's
   * in the same runs), the first cell (19–24 -> 51–59 ms) and RSS after warm-up (135 -> 205 MiB).
   */
  warmUp(): void {
    this.checker.warmUp();
    // The first cell also paid for the first transpile (TypeScript's emit pipeline, never run in a
    // snapshot's build) and the first vm compile: ~21 ms CPU of a first `1+1`, profiled.
    const warm = this.transpiler.transpile('const warmUp: number = 1;\nwarmUp + 1');
    this.runtime.compile(warm.functionBody, '[tsgpu warm-up]');
    const step = (): void => {
      if (!this.checker.deferring) return;
      const quietFor = performance.now() - this.lastActivity;
      if (this.running !== null || this.cellsStarted === 0) setTimeout(step, IDLE_BEFORE_LOADING_MS).unref();
      else if (quietFor < IDLE_BEFORE_LOADING_MS) setTimeout(step, IDLE_BEFORE_LOADING_MS - quietFor).unref();
      // A timer, not setImmediate: an unref'd immediate waits for the next I/O to wake the loop.
      else if (this.checker.prefetchDeferredTypes()) setTimeout(step, 0).unref();
      else this.checker.loadDeferredTypes(); // every file parsed and bound: about 0.1 s
    };
    setTimeout(step, 0).unref();
  }

  /**
   * Reads the options again when the config file (or one it extends) was edited, created or
   * removed since they were read; `%typecheck strict|loose` stays in force. What changed is said
   * once, at the next cell the user sees.
   */
  private followConfigFile(): void {
    const before = this.checker.configuration;
    if (configStamp(this.t, this.deps.directory, before.sources) === before.stamp) return;
    const after = loadCheckerConfig(this.t, this.deps.directory, before.strictness);
    if (sameChoices(before, after)) {
      // Saved without an edit: the same options, read under the new stamp; the checker's caches stay.
      before.stamp = after.stamp;
      return;
    }
    this.reconfigure(after);
    this.configNotice = configChange(before, after);
    this.configNoticeAtStart = false;
    log(this.configNotice.trimEnd());
  }

  /** Checks, emits and loads modules under new options (the same options for all three). */
  private reconfigure(config: CheckerConfig): void {
    this.checker.reconfigure(config);
    this.transpiler.configure(config.options);
    this.runtime.moduleEmitOptions = emitOptionsOf(config.options);
  }

  /** Local modules edited on disk since they loaded, and those importing them, load again before this cell (local-modules.ts); the user is told, as of a tsconfig.json edit. */
  private followModuleEdits(): string | null {
    const outcome = this.runtime.localModules.followEdits();
    if (outcome === null) return null;
    const shown = (file: string): string => path.relative(this.deps.directory, file) || file;
    let notice = `${outcome.edited.map(shown).join(', ')} changed on disk: ${outcome.edited.length === 1 ? 'it loads' : 'they load'} again from the file, with the local modules that import ${outcome.edited.length === 1 ? 'it' : 'them'}`;
    if (outcome.rebound.length > 0) notice += `; ${outcome.rebound.join(', ')} (imported by earlier cells) now ${outcome.rebound.length === 1 ? 'refers' : 'refer'} to the new version`;
    notice += '.\n';
    for (const file of new Set(outcome.gone.map((name) => name.file))) {
      const names = outcome.gone.filter((name) => name.file === file).map((name) => (name.local === name.imported ? name.local : `${name.imported} (imported as ${name.local})`));
      notice += `${shown(file)} no longer exports ${names.join(', ')}: the old ${names.length === 1 ? 'value stays' : 'values stay'}, and the type checker no longer knows ${names.length === 1 ? 'its type' : 'their types'}.\n`;
    }
    for (const failure of outcome.failed) {
      notice += `Could not load ${shown(failure.file)} again (${failure.message}): the names earlier cells imported from it keep the version loaded before.\n`;
    }
    log(notice.trimEnd());
    return notice;
  }

  /**
   * Stops a cell that is awaiting (a sync loop is stopped by SIGINT through breakOnSigint). The
   * host asks only while the cell's call is its running one: past the cell's code (its last line
   * returned; the host waits a turn of the event loop, then closes the cell), its work left running
   * is stopped. `spin(); const after = 1;` of an async recursion filled the promise jobs so that
   * turn never came, and the interrupt reached no cell: the kernel ran out of memory.
   */
  interrupt(): void {
    (this.running ?? this.lastCell)?.context.interrupt();
    this.running?.interruption.interrupt(new InterruptedError());
  }

  /**
   * Every earlier cell's work still running stops: an async recursion through setImmediate that
   * a cell started and left grew until the kernel ran out of memory, and an interrupt at an idle
   * kernel reached nothing. Work meant to outlive interrupts is started with detach().
   */
  stopLeftovers(): void {
    if (this.running !== null) return;
    for (const cell of this.earlierCells) cell.deref()?.interrupt();
  }

  /**
   * The innermost cell frame of the code running now, mapped to the cell's own line; when that
   * frame is in a function the running cell called, also the running cell's outermost frame (the
   * line that called it, where the user's loop is). `frames` caps how many frames are read.
   */
  callerLocation(frames = 200): CellLocation | null {
    return this.callerLocationLater(frames)();
  }

  /**
   * Takes the stack now and maps it to the cell's lines only when asked: a read started in a loop
   * and awaited later (`ps.push(x.data())`) is credited to the line that started it, while a read
   * that is never recorded costs only the capture.
   */
  callerLocationLater(frames = 200): () => CellLocation | null {
    // A move deep inside tfjs (an op inside fit()) is dozens of frames below the cell's own frame.
    // The frames are read as V8's call sites, not as formatted text: formatting 200 frames costs
    // tens of µs, and a tensor made on a GPU asks this once per op.
    const [limit, prepare] = [Error.stackTraceLimit, Error.prepareStackTrace];
    Error.stackTraceLimit = frames;
    Error.prepareStackTrace = (_error, sites): NodeJS.CallSite[] => sites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    let sites: NodeJS.CallSite[] = [];
    try {
      Error.captureStackTrace(holder);
      // Read before prepareStackTrace is put back: V8 builds `stack` on first access.
      sites = holder.stack ?? [];
    } finally {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
    }
    const running = this.running?.executionCount;
    let located: CellLocation | null | undefined;
    return () => {
      located ??= this.locateSites(sites, running);
      return located;
    };
  }

  private locateSites(sites: NodeJS.CallSite[], running: number | undefined): CellLocation | null {
    let inner: CellLocation | null = null;
    let outer: { cell: number; line: number } | null = null;
    for (const site of sites) {
      const frame = CELL_FILE.exec(site.getFileName() ?? '');
      if (frame === null) continue;
      const cell = Number(frame[2]);
      // After the innermost frame only the running cell's frames matter.
      if (inner !== null && cell !== running) continue;
      const mapped = this.cells.get(frame[1]!)?.(site.getLineNumber() ?? 0, site.getColumnNumber() ?? 0);
      if (!mapped) continue;
      if (inner === null) inner = { cell, line: mapped.line };
      if (cell === running) outer = { cell, line: mapped.line };
    }
    if (inner === null) return null;
    if (outer === null || (outer.cell === inner.cell && outer.line === inner.line)) return inner;
    return { ...inner, callSite: outer };
  }

  async execute(cell: string, options: ExecuteOptions, emit: (event: OutputEvent) => void): Promise<ExecuteOutcome> {
    const running: RunningCell = {
      executionCount: options.executionCount, fileName: cellFileName(options.executionCount), interruption: new Interruption(),
      context: new CellContext(options.executionCount), code: '', cell, leftRunning: [], printedPromises: [], placedMagics: [],
    };
    this.running = running;
    // Held weakly: a cell's context lives on only while work it left (a timer, a promise chain) holds it.
    this.earlierCells = [...this.earlierCells.filter((cell) => cell.deref() !== undefined), new WeakRef(running.context)];
    this.cellsStarted++;
    this.lastActivity = performance.now();
    this.lastCell = running;
    let code = '';
    try {
      // One turn of the event loop first: an interrupt sent right behind this cell (while the
      // checker was still warming up, say) lands here and the cell does not start.
      await running.interruption.race(new Promise((resolve) => setImmediate(resolve)));
      this.followConfigFile();
      // A silent request (a client warming the kernel up) shows nothing: the notice waits for a cell the user sees.
      if (this.configNotice !== null && !options.silent) {
        // `%typecheck` alone lists the same warning and ignored options: said there, not twice.
        if (!(this.configNoticeAtStart && BARE_TYPECHECK.test(cell))) process.stderr.write(this.configNotice);
        this.configNotice = null;
      }
      const parsed = parseCell(cell);
      this.deps.hooks.beforeRun(options.executionCount, cellSource(this.t, parsed.code));
      // After beforeRun: what a module does as it loads again (tensors it makes) is this cell's.
      // Run as the cell's code runs, where an interrupt stops it: an edit that loops at load would
      // otherwise hang the kernel past any interrupt. Only when a file changed: a run costs a
      // watchdog thread, which a cell without edits need not pay for.
      // Not for a silent request (a client's own, unseen): what the reload does belongs with the next cell the user sees.
      const reloaded = !options.silent && this.runtime.localModules.anyEdited() ? runInCell(running.context, () => this.deps.cells.run(() => this.followModuleEdits())) as string | null : null;
      if (reloaded !== null) process.stderr.write(reloaded);
      const late = magicsBelowCode(parsed);
      // A %%cell magic runs the code its own way: its line magics all run first.
      const lines = parsed.cellMagic ? { code: parsed.code, placed: [], early: late.calls } : placeMagicLines(this.t, parsed.code, late.calls);
      code = lines.code;
      running.code = code;
      const context = this.magicContext(running);
      running.placedMagics = lines.placed.map((call) => () => this.runLineMagic(call, context));
      if (lines.early.length > 0) {
        const named = lines.early.map((call) => `%${call.name} (line ${call.line})`).join(', ');
        process.stderr.write(`Warning: line magics inside a block, a function or a %%cell magic's cell run before the cell's code: ${named} ran before the code on line ${late.firstCodeLine}. `
          + "Put it between top-level statements, or use `await withDevice('gpu:0', () => …)` for part of a cell.\n");
      }
      for (const call of parsed.lineMagics) {
        if (!lines.placed.includes(call)) await this.runLineMagic(call, context);
      }
      let value: unknown;
      if (parsed.cellMagic) {
        const magic = this.deps.magics.get(parsed.cellMagic.name);
        if (!magic.cell) throw new MagicError(`%%${magic.name} is not a cell magic: write %${magic.name} on a line of its own`);
        value = await magic.cell(parsed.cellMagic.args, code, context);
      } else if (code.trim() !== '') {
        value = await this.runCode(code, running);
      }
      // A GPU reports some faults (out of memory, a validation error) asynchronously, after
      // the op "succeeded" with zeros: such a cell failed, whatever it returned.
      const fault = await this.deps.hooks.faults();
      if (fault) return { status: 'error', ename: 'GPUError', evalue: fault, traceback: [`GPUError: ${fault}`] };
      if (value !== undefined && !isDisplayHandle(value)) emit({ type: 'execute_result', ...toMimeBundle(value) });
      return { status: 'ok' };
    } catch (error) {
      if (error instanceof CellRefused) return error.outcome;
      if (error instanceof MagicError) return { status: 'error', ename: error.name, evalue: error.message, traceback: [`${error.name}: ${error.message}`] };
      if (isInterruptError(error)) {
        // SIGINT stopped its synchronous part: what it started before stops too.
        running.context.interrupt();
        return toErrorOutcome(new InterruptedError());
      }
      return this.runtimeError(error, cell, running.fileName);
    } finally {
      running.leftRunning = [...running.context.tasks];
      this.running = null;
      this.lastActivity = performance.now();
    }
  }

  async finishCell(executionCount: number): Promise<void> {
    const cell = this.lastCell;
    if (cell !== null && cell.executionCount === executionCount) {
      // A read that already finished (a cpu tensor's) leaves no task running: its printed promise is the sign.
      for (const { operation, line } of cell.printedPromises) {
        process.stderr.write(`Warning: \`${promisedCall(operation)}\`${line === null ? '' : ` at line ${line}`} was not awaited: its Promise was printed, not its value. Write \`await\` before the call.\n`);
      }
      cell.printedPromises = [];
    }
    // Moves and readbacks still in flight finish now, so they are reported under this cell, not the
    // next. An interrupted cell's were cut short by the interrupt, not forgotten: it ends at once
    // (waiting up to 10 s for them would keep the interrupt from stopping it), and they are
    // reported apart if they finish during a later cell.
    if (cell !== null && cell.executionCount === executionCount && cell.leftRunning.length > 0 && !cell.context.interrupted) {
      const warnings = await settleUnawaited(cell.leftRunning, (task) => this.unawaitedCall(task, cell));
      if (warnings) process.stderr.write(warnings);
    }
    // A progress display's last draw may wait up to 100 ms (throttling): it belongs to this cell.
    await this.progressSettled();
    const shown = await this.deps.hooks.afterRun(executionCount);
    if (shown) this.deps.emit({ type: 'display_data', ...renderReport(shown.report, shown.mode) });
    useKernelTiering();
    // Folding the cell into the checker's history costs a few ms: spent once this call's result is
    // posted (a macrotask after it), while the protocol thread sends the reply and `idle`, not before.
    setImmediate(() => this.checker.flush());
  }

  private async runLineMagic(call: MagicCall, context: MagicContext): Promise<void> {
    const magic = this.deps.magics.get(call.name.replace(/\?$/, ''));
    if (call.name.endsWith('?')) context.print(magicHelp(magic));
    else if (magic.line) await magic.line(call.args, context);
    else throw new MagicError(`%${magic.name} is a cell magic: write %%${magic.name} on the cell's first line`);
  }

  /** The call that started `task`, as the user wrote it in `cell`. */
  private unawaitedCall(task: CellTask, cell: RunningCell): UnawaitedCall {
    const fallback: UnawaitedCall = { what: `.${task.operation}()`, line: null, known: false };
    // The running cell's own frame (or one of code its magics ran, placed at the cell's lines):
    // the move may be inside a function another cell defined, whose line numbers are that cell's.
    const frame = [...(task.trace.stack ?? '').matchAll(/(<cell \d+(?:\.\d+)?>):(\d+):(\d+)/g)].find((match) => shownFileName(match[1]!) === cell.fileName);
    if (!frame) return fallback;
    const mapped = this.cells.get(frame[1]!)?.(Number(frame[2]), Number(frame[3]));
    if (!mapped) return fallback;
    const text = callTextAt(this.t, cell.code, mapped.line, mapped.column);
    return { what: text ?? fallback.what, line: mapped.line, known: text !== null };
  }

  /** Checks, transpiles and runs code as a cell; resolves with its value. */
  private async runCode(code: string, running: RunningCell, fileName = running.fileName): Promise<unknown> {
    const run = await this.compile(code, running, fileName);
    return run();
  }

  /**
   * Checks and transpiles once (throwing CellRefused when the code must not run); the returned
   * function runs it, and may run it again (%timeit). Declarations are committed on the first run.
   */
  private async compile(code: string, running: RunningCell, fileName: string): Promise<() => Promise<unknown>> {
    // The local modules the cell imports are part of what it runs: a module that uses `tf` loads the device layer too.
    const declarations = await this.deps.hooks.prepare([code, ...localModuleSources(code, this.deps.directory, localFileFor)].join('\n'));
    for (const file of declarations) this.checker.addDeclarations(file);
    const pragma = unsupportedPragma(code);
    if (pragma) throw new CellRefused({ status: 'error', ename: 'UnsupportedPragma', evalue: pragma, traceback: [`UnsupportedPragma: ${pragma}`] });
    const reserved = reservedNameUse(this.t, code);
    if (reserved) throw new CellRefused({ status: 'error', ename: 'ReservedName', evalue: reserved, traceback: [`ReservedName: ${reserved}`] });
    let transpiled = this.transpiler.transpile(code);
    if (transpiled.syntaxErrors.length > 0) throw new CellRefused(this.syntaxErrorOutcome(code, transpiled.syntaxErrors));
    const checked = this.checker.check(code, this.typecheck !== 'off');
    const errors = checked.diagnostics.filter((diagnostic) => diagnostic.category === 'error');
    const quoted = errors.length > 0 ? quotedSource(running.cell, code) : code;
    if (errors.length > 0 && this.typecheck === 'on') throw new CellRefused(typeErrorOutcome(quoted, errors));
    if (errors.length > 0) process.stderr.write(typeWarningText(quoted, errors));
    else if (checked.declarationWarnings.length > 0) process.stderr.write(declarationWarningText(quotedSource(running.cell, code), checked.declarationWarnings));
    let cell: () => unknown;
    ({ cell, transpiled } = this.compileEmitted(code, transpiled, fileName));
    this.cells.set(fileName, transpiled.toCell);
    let committed = false;
    return async () => {
      // An interrupt that arrived while the cell was compiled (its SIGINT handled outside the
      // running script) lands here, before a loop could start.
      await running.interruption.race(this.deps.cells.settle());
      try {
        // The cell's own code is tiered up as V8 decides, until finishCell; the kernel's work as tiering.ts says.
        useCellTiering();
        const result = runInCell(running.context, () => this.deps.cells.run(cell)) as Promise<unknown>;
        return await running.interruption.race(result);
      } finally {
        // From the first run on, the cell's declarations exist at run time, even if it threw half way.
        if (!committed) {
          committed = true;
          // Folded into the history once the reply is out (finishCell), or by the next check.
          checked.commit();
        }
      }
    };
  }

  /** The function that runs `code`, from its transpiled text. */
  private compileEmitted(code: string, transpiled: TranspiledCell, fileName: string): { cell: () => unknown; transpiled: TranspiledCell } {
    try {
      return { cell: this.runtime.compile(transpiled.functionBody, fileName), transpiled };
    } catch (error) {
      // The text path's output does not parse: a shape of cell it did not foresee. TypeScript's own
      // emit runs it instead, as it did before the text path existed.
      if (!transpiled.textPath || (error as Error | null)?.name !== 'SyntaxError') throw error;
      log(`the text path's emit of a cell did not compile (${(error as Error).message}): TypeScript's emit runs it`);
      const emitted = this.transpiler.transpileWithTypeScript(code);
      return { cell: this.runtime.compile(emitted.functionBody, fileName), transpiled: emitted };
    }
  }

  private magicContext(running: RunningCell): MagicContext {
    const interpreter = this;
    const deps = this.deps;
    const subCell = (): string => `${running.fileName.slice(0, -1)}.${++this.subCells}>`;
    return {
      get typecheck() { return interpreter.typecheck; },
      set typecheck(mode) { interpreter.typecheck = mode; },
      describeTypecheck: () => describeConfig(this.t, this.checker.configuration, this.typecheck),
      setStrictness: (strictness) => this.reconfigure(loadCheckerConfig(this.t, deps.directory, strictness)),
      print: (text) => void process.stdout.write(text),
      display: (bundle) => deps.emit({ type: 'display_data', data: bundle, metadata: {} }),
      run: (code) => this.runCode(placeInCell(running.cell, running.code, code), running, subCell()),
      compile: (code) => this.compile(placeInCell(running.cell, running.code, code), running, subCell()),
      // %timeit and %time wait for the GPU's queued work: an interrupt stops that wait (it was let
      // run to the end, 5-7 s of queued matMuls, and the cell printed its timing).
      synchronize: () => running.interruption.race(deps.synchronize()),
      userNames: () => this.checker.userNames().map((name) => ({ name, value: (globalThis as Record<string, unknown>)[name] })),
      devices: deps.devices,
    };
  }

  async evaluate(expression: string): Promise<ExpressionValue> {
    try {
      const { cell } = this.compileEmitted(expression, this.transpiler.transpile(expression), '<user_expression>');
      const value = await (this.deps.cells.run(cell) as Promise<unknown>);
      return { status: 'ok', ...toMimeBundle(value) };
    } catch (error) {
      return toErrorOutcome(error);
    }
  }

  async complete(cell: string, cursorPos: number): Promise<Completion> {
    const cursor = utf16Index(cell, cursorPos);
    const word = await completeKernelWord(cell, cursor, {
      magics: this.deps.magics.list(),
      deviceNames: async () => (await (await this.deps.devices()).list()).map((device) => device.name),
    });
    if (word === null) {
      await this.declareTensorsFor(cell);
      return this.introspection.complete(cell, cursorPos);
    }
    const start = codePointLength(cell.slice(0, word.start));
    return {
      matches: word.matches, cursorStart: start, cursorEnd: cursorPos,
      metadata: { _jupyter_types_experimental: word.matches.map((text) => ({ start, end: cursorPos, text, type: word.type })) },
    };
  }

  async inspect(cell: string, cursorPos: number, detailLevel: number): Promise<Inspection> {
    const magic = magicAt(cell, utf16Index(cell, cursorPos), this.deps.magics.list());
    if (magic) return { found: true, data: { 'text/plain': magicHelp(magic) } };
    await this.declareTensorsFor(cell);
    return this.introspection.inspect(cell, cursorPos, detailLevel);
  }

  /**
   * The tensor API's types, as running the cell would add them: `tf.` completes and `tf.matMul`
   * inspects before any cell touched tensors.
   */
  private async declareTensorsFor(cell: string): Promise<void> {
    for (const file of await this.deps.hooks.prepare(parseCell(cell).code)) this.checker.addDeclarations(file);
  }

  async isComplete(cell: string): Promise<CompletenessStatus> {
    return this.introspection.isComplete(cell);
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

  /**
   * An error no cell caught (a promise nobody awaited, a timer's throw) as a cell's own error
   * shows: the cells' frames at their lines, the kernel's left out (it printed ~20 of them, and
   * cell frames at lines of the emitted code).
   */
  strayErrorText(error: unknown): string {
    return this.mappedOutcome(error).traceback.join('\n');
  }

  /** The error's frames in cell and module line numbers (source-mapped), the kernel's dropped. */
  private mappedOutcome(error: unknown): ErrorOutcome {
    return toErrorOutcome(error, (file, line, column) => this.cells.get(file)?.(line, column) ?? null, (file, line, column) => {
      const position = this.runtime.localModules.sourcePosition(file, line, column);
      return position && { shown: path.relative(this.deps.directory, file) || file, ...position };
    });
  }

  /** The error with frames in cell line numbers (source-mapped) and the failing line shown. */
  private runtimeError(error: unknown, cell: string, fileName: string): ErrorOutcome {
    const outcome = this.mappedOutcome(error);
    const top = /<cell \d+>:(\d+):(\d+)/.exec(outcome.traceback.find((line) => line.includes(`${fileName}:`)) ?? '');
    if (top) {
      const lineNumber = Number(top[1]);
      const source = cell.split('\n')[lineNumber - 1];
      if (source !== undefined) {
        const gutter = `${lineNumber} | `;
        outcome.traceback.push(`${gutter}${source}`, `${' '.repeat(gutter.length + Number(top[2]) - 1)}^`);
      }
    }
    const hint = runtimeErrorHint(outcome.ename, outcome.evalue, receiverOfFailedCall(outcome.evalue), parseCell(cell).code);
    if (hint) outcome.traceback.push(hint);
    return outcome;
  }
}
