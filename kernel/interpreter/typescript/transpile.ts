// TypeScript cell -> JavaScript that runs as the body of an async function, with a source map
// back to the cell. Transpiling is per cell and needs no type information, so it works the same
// whether type checking is on, warn or off.
import type ts from 'typescript';
import { cellRewriter, importRewriter } from './cell-rewrite';
import { SourceMapper } from './source-map';

export interface TranspiledCell {
  /** Syntax errors; a cell with any must not run. */
  syntaxErrors: readonly ts.Diagnostic[];
  /** Evaluates to a promise of the cell's value. */
  javascript: string;
  /** Maps a line:column of `javascript` back to the cell, correcting for the wrapper. */
  toCell(line: number, column: number): { line: number; column: number } | null;
}

/** On the first line so every other line keeps its number. */
const PREFIX = '(async () => {';

export function cellCompilerOptions(t: typeof ts): ts.CompilerOptions {
  return {
    target: t.ScriptTarget.ES2022,
    module: t.ModuleKind.ESNext,
    esModuleInterop: true,
    sourceMap: true,
    inlineSources: false,
    removeComments: false,
  };
}

export function transpileCell(t: typeof ts, code: string, fileName: string): TranspiledCell {
  const output = t.transpileModule(code, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: cellCompilerOptions(t),
    transformers: { before: [importRewriter(t)], after: [cellRewriter(t)] },
  });
  const body = output.outputText.replace(/\n?\/\/# sourceMappingURL=.*\s*$/, '');
  const mapper = output.sourceMapText ? new SourceMapper((JSON.parse(output.sourceMapText) as { mappings: string }).mappings) : null;
  return {
    syntaxErrors: output.diagnostics ?? [],
    javascript: `${PREFIX}${body}\n})()`,
    toCell: (line, column) => mapper?.original(line, line === 1 ? column - PREFIX.length : column) ?? null,
  };
}
