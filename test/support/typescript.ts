// Reading what the TypeScript execution shows: TSError reports ("L:C - error TSxxxx: message",
// "L | source", caret line), runtime tracebacks ("    at fn (<cell N>:L:C)"), and the folders
// a notebook's imports resolve from.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ContentOf } from './message-schema';

export interface TsProblem {
  line: number;
  column: number;
  code: number;
  message: string;
  /** "L:C - error TSxxxx: message" as shown. */
  header: string;
}

/** A chained diagnostic ("This expression is not callable.\n  Type …") spans lines. */
const PROBLEM = /^(\d+):(\d+) - error TS(\d+): ([\s\S]*)$/;

/** "2:7 - error TS2322: ..." parsed, or undefined for any other line. */
export function parseProblem(text: string): TsProblem | undefined {
  const match = PROBLEM.exec(text);
  if (match === null) return undefined;
  return { line: Number(match[1]), column: Number(match[2]), code: Number(match[3]), message: match[4] ?? '',
    header: text };
}

/** The problems of a TSError traceback, each with the index of its header line. */
export function problemsOf(traceback: readonly string[]): (TsProblem & { at: number })[] {
  const found: (TsProblem & { at: number })[] = [];
  traceback.forEach((text, at) => {
    const problem = parseProblem(text);
    if (problem !== undefined) found.push({ ...problem, at });
  });
  return found;
}

/**
 * Asserts the two lines after traceback[at]: "L | <source line>" then a caret line whose first
 * caret sits under column `column` of that source line, `width` carets long (when given).
 */
export function assertQuoted(traceback: readonly string[], at: number,
  expected: { line: number; column: number; source: string; width?: number }): void {
  const quoted = traceback[at + 1];
  const caret = traceback[at + 2];
  const prefix = `${expected.line} | `;
  assert.equal(quoted, prefix + expected.source, `the line after ${JSON.stringify(traceback[at])} quotes the source`);
  assert.ok(caret !== undefined && /^ *\^+\s*$/.test(caret), `caret line expected, got ${JSON.stringify(caret)}`);
  const start = caret.indexOf('^');
  assert.equal(start, prefix.length + expected.column - 1,
    `caret under column ${expected.column}:\n${quoted}\n${caret}`);
  if (expected.width !== undefined) {
    assert.equal(caret.trimEnd().length - start, expected.width, `caret width:\n${quoted}\n${caret}`);
  }
}

/** A TSError as the contract shapes it; returns its problems. */
export function assertTsError(error: ContentOf<'error'>): (TsProblem & { at: number })[] {
  assert.equal(error.ename, 'TSError', `ename: ${JSON.stringify(error)}`);
  const problems = problemsOf(error.traceback);
  assert.ok(problems.length > 0, `no "L:C - error TSxxxx: message" line in ${JSON.stringify(error.traceback)}`);
  const first = problems[0] as TsProblem;
  const more = problems.length - 1;
  assert.equal(error.evalue, more === 0 ? first.header : `${first.header} (and ${more} more)`, 'evalue');
  return problems;
}

export interface Frame {
  /** Function name, or undefined for an anonymous frame ("    at <cell 3>:2:7"). */
  fn: string | undefined;
  cell: number;
  line: number;
  column: number;
  text: string;
}

const CELL_FRAME = /^ {4}at (?:(.+) \()?<cell (\d+)>:(\d+):(\d+)\)?$/;

/** The traceback's "    at ..." lines. */
export function frameLines(traceback: readonly string[]): string[] {
  return traceback.filter((text) => /^\s+at /.test(text));
}

/** Frames in a cell ("    at fn (<cell N>:L:C)" or "    at <cell N>:L:C"). */
export function cellFrames(traceback: readonly string[]): Frame[] {
  const frames: Frame[] = [];
  for (const text of frameLines(traceback)) {
    const match = CELL_FRAME.exec(text);
    if (match === null) continue;
    frames.push({ fn: match[1], cell: Number(match[2]), line: Number(match[3]), column: Number(match[4]), text });
  }
  return frames;
}

export interface NotebookFolder {
  dir: string;
  remove(): void;
}

/** Writes `files` (relative path -> content) under a new temp folder. */
export function makeFolder(files: Record<string, string>): NotebookFolder {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgpu-notebook-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A notebook's folder: node_modules with a CommonJS package and an ESM-only package, and
 * util.ts / cubes.js / util.mjs beside the notebook, each exporting different names. The
 * JavaScript file has a name of its own: TypeScript resolves `./util.js` to util.ts when both
 * exist (its rule for compiled output), so a util.js beside util.ts is never what a cell imports.
 */
export function makeNotebookFolder(): NotebookFolder {
  return makeFolder({
    'node_modules/cjs-pkg/package.json': JSON.stringify({ name: 'cjs-pkg', version: '1.0.0', main: 'index.js' }),
    'node_modules/cjs-pkg/index.js': [
      "exports.greet = function greet(name) { return 'hi ' + name; };",
      'exports.answer = 42;',
      '',
    ].join('\n'),
    'node_modules/esm-pkg/package.json': JSON.stringify({
      name: 'esm-pkg', version: '1.0.0', type: 'module', exports: { import: './index.js' },
    }),
    'node_modules/esm-pkg/index.js': [
      "export const shout = (s) => s.toUpperCase() + '!';",
      'export default function twice(n) { return n * 2; }',
      'globalThis.esmPkgLoads = (globalThis.esmPkgLoads ?? 0) + 1;',
      '',
    ].join('\n'),
    'node_modules/side-effect-pkg/package.json': JSON.stringify({ name: 'side-effect-pkg', version: '1.0.0', main: 'index.js' }),
    'node_modules/side-effect-pkg/index.js': 'globalThis.sideEffectPkgRan = true;\n',
    'util.ts': 'export function square(n: number): number { return n * n; }\nexport const flavour: string = \'ts\';\n',
    'cubes.js': 'exports.cube = function cube(n) { return n * n * n; };\n',
    'util.mjs': "export const mjsValue = 'from mjs';\n",
  });
}
