// TypeScript cell -> the body of a JavaScript function that returns a promise of the cell's
// value, with a map back to the cell. Transpiling is per cell and needs no type information, so
// it works the same whether type checking is on, warn or off. Most cells take the text path
// (text-emit.ts); the rest, and cells with syntax errors, go through transpileModule.
import type ts from 'typescript';
import { cellSyntax } from './cell-syntax';
import { cellRewriter, importRewriter, loopChecks } from './cell-rewrite';
import { SourceMapper } from './source-map';
import { textEmit, Unsupported } from './text-emit';

/** Maps a line:column of a cell's function body back to the cell (null: the wrapper, not the user's code). */
export type CellMapper = (line: number, column: number) => { line: number; column: number } | null;

export interface TranspiledCell {
  /** Syntax errors; a cell with any must not run. */
  syntaxErrors: readonly ts.Diagnostic[];
  /** The body of a function (no parameters) that returns a promise of the cell's value. */
  functionBody: string;
  /** Maps a line:column of `functionBody` back to the cell, correcting for the wrapper. */
  toCell: CellMapper;
  /** Emitted by the text path (text-emit.ts), not by TypeScript's transpileModule. */
  textPath?: boolean;
}

/** On the first line so every other line keeps its number. */
const PREFIX = 'return (async () => {';

/**
 * Cells run again unchanged (a loop re-run, a soak, %timeit's setup) are transpiled once: a
 * transpileModule call builds a program and a type checker, ~380 KiB that V8 promotes to the old
 * generation before it dies, so RSS climbed by that much per cell until a full GC (the text path
 * makes far less, but the cells that still go through transpileModule are kept too).
 */
const RECENT_LIMIT = 64;

export function cellCompilerOptions(t: typeof ts, emit: ts.CompilerOptions = {}): ts.CompilerOptions {
  return {
    target: t.ScriptTarget.ES2022,
    module: t.ModuleKind.ESNext,
    esModuleInterop: true,
    sourceMap: true,
    inlineSources: false,
    removeComments: false,
    ...emit,
  };
}

/**
 * The user's options (tsconfig.json, %typecheck) that change what a cell or module runs as, not
 * only how it is checked: legacy decorators and their metadata, class fields assigned rather than
 * defined, JSX. Checked one way and emitted another, `experimentalDecorators` cells threw (a legacy
 * decorator called the TC39 way gets no property descriptor).
 */
export function emitOptionsOf(options: ts.CompilerOptions): ts.CompilerOptions {
  const { experimentalDecorators, emitDecoratorMetadata, useDefineForClassFields, jsx, jsxFactory, jsxFragmentFactory, jsxImportSource } = options;
  return Object.fromEntries(Object.entries({ experimentalDecorators, emitDecoratorMetadata, useDefineForClassFields, jsx, jsxFactory, jsxFragmentFactory, jsxImportSource })
    .filter(([, value]) => value !== undefined)) as ts.CompilerOptions;
}

export class CellTranspiler {
  /** By cell text, oldest first. The output does not depend on the cell's name: the map's `sources` is never read. */
  private readonly recent = new Map<string, TranspiledCell>();
  /** emitOptionsOf the user's options; the text path keeps class fields as fields, so it is left when they must be assigned. */
  private emit: ts.CompilerOptions = {};

  constructor(private readonly t: typeof ts) {}

  /** Emits later cells under the user's options (emitOptionsOf): a change forgets the cells emitted before. */
  configure(options: ts.CompilerOptions): void {
    const emit = emitOptionsOf(options);
    if (JSON.stringify(emit) === JSON.stringify(this.emit)) return;
    this.emit = emit;
    this.recent.clear();
  }

  transpile(code: string): TranspiledCell {
    const known = this.recent.get(code);
    if (known) {
      this.recent.delete(code);
      this.recent.set(code, known);
      return known;
    }
    const transpiled = (this.emit.useDefineForClassFields === false ? null : emitCell(this.t, code)) ?? transpileCell(this.t, code, this.emit);
    // A diagnostic holds the whole parsed file; such a cell never runs, so it is not worth keeping.
    if (transpiled.syntaxErrors.length > 0) return transpiled;
    this.recent.set(code, transpiled);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
    return transpiled;
  }

  /**
   * TypeScript's own emit of a cell whose text-path output did not compile (a shape of tree the
   * text path did not foresee): it replaces that output for good.
   */
  transpileWithTypeScript(code: string): TranspiledCell {
    const transpiled = transpileCell(this.t, code, this.emit);
    this.recent.delete(code);
    if (transpiled.syntaxErrors.length === 0) this.recent.set(code, transpiled);
    return transpiled;
  }
}

/**
 * The fast path: one parse and edits on the cell's text (text-emit.ts), ~6x less CPU than
 * transpileModule, which builds a program and a type checker per cell. Null when the cell has a
 * syntax error (transpileModule reports it) or syntax only transpileModule emits exactly; a shape
 * of tree this path did not foresee goes there too (emitCellStrict, for tests, throws instead).
 */
export function emitCell(t: typeof ts, code: string): TranspiledCell | null {
  try {
    return emitCellStrict(t, code);
  } catch {
    return null;
  }
}

export function emitCellStrict(t: typeof ts, code: string): TranspiledCell | null {
  const file = cellSyntax(t, code);
  const parseErrors = (file as unknown as { parseDiagnostics?: readonly ts.Diagnostic[] }).parseDiagnostics;
  if (parseErrors === undefined || parseErrors.length > 0) return null;
  let emitted;
  try {
    emitted = textEmit(t, file);
  } catch (error) {
    if (error instanceof Unsupported) return null;
    throw error;
  }
  const { body, toOriginal } = emitted;
  let generatedLines: number[] | undefined;
  let cellLines: number[] | undefined;
  return {
    syntaxErrors: [],
    functionBody: `${PREFIX}${body}\n})()`,
    toCell: (line, column) => {
      generatedLines ??= lineStarts(body);
      const lineStart = generatedLines[line - 1];
      if (lineStart === undefined) return null;
      const offset = lineStart + Math.max(0, (line === 1 ? column - PREFIX.length : column) - 1);
      cellLines ??= lineStarts(code);
      return positionOf(cellLines, toOriginal(Math.min(offset, body.length)));
    },
    textPath: true,
  };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '\r' && text[index + 1] === '\n') continue;
    if (char === '\n' || char === '\r' || char === '\u2028' || char === '\u2029') starts.push(index + 1);
  }
  return starts;
}

/** 1-based line and column of an offset, given the offsets where lines start. */
function positionOf(starts: readonly number[], offset: number): { line: number; column: number } {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid; else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low]! + 1 };
}

export function transpileCell(t: typeof ts, code: string, emit: ts.CompilerOptions = {}): TranspiledCell {
  const output = t.transpileModule(code, {
    fileName: 'cell.ts',
    reportDiagnostics: true,
    compilerOptions: cellCompilerOptions(t, emit),
    transformers: { before: [importRewriter(t)], after: [loopChecks(t), cellRewriter(t)] },
  });
  const body = output.outputText.replace(/\n?\/\/# sourceMappingURL=.*\s*$/, '');
  // Decoded when first asked (an error, a tensor op's location): most cells never ask.
  const mapText = output.sourceMapText;
  let mapper: SourceMapper | null | undefined;
  const mapperOf = (): SourceMapper | null => (mapper ??= mapText ? new SourceMapper((JSON.parse(mapText) as { mappings: string }).mappings) : null);
  return {
    syntaxErrors: output.diagnostics ?? [],
    functionBody: `${PREFIX}${body}\n})()`,
    toCell: (line, column) => mapperOf()?.original(line, line === 1 ? column - PREFIX.length : column) ?? null,
  };
}
