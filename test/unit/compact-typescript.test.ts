// The compiler's compact copy (kernel/startup/compact-typescript.ts) stands in for typescript.js in
// start-up snapshots: it must be taken only when it was made from the typescript.js installed, and
// it must be the same compiler. Here it is loaded as the snapshot loads it (under typescript.js's
// own file name) and given the text-emit corpus beside the installed typescript.js: every cell's
// transpiled output, and every cell's diagnostics from a CellChecker over each, must be equal.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import vm from 'node:vm';
import ts from 'typescript';
import { CellChecker } from '../../kernel/interpreter/typescript/checker';
import { loadCheckerConfig } from '../../kernel/interpreter/typescript/compiler-options';
import { COMPACT_MANIFEST, COMPACT_SOURCE, compactCopyOf } from '../../kernel/startup/compact-typescript';
import { TYPED_CELL } from '../../bench/lib/typed-cell';
import { GATHERED_CELLS } from './text-emit-corpus';

const STARTUP = path.resolve(__dirname, '..', '..', 'kernel', 'startup');
const TYPESCRIPT = require.resolve('typescript');

const made: string[] = [];
after(() => { for (const folder of made) fs.rmSync(folder, { recursive: true, force: true }); });
function folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-compact-'));
  made.push(dir);
  return dir;
}

/** The copy run as snapshot-entry.ts runs it: its text, typescript.js's file name and folder. */
function loadCompact(copy: string): typeof ts {
  const module = { exports: {} as unknown };
  const run = new vm.Script(Module.wrap(fs.readFileSync(copy, 'utf8')), { filename: copy }).runInThisContext() as
    (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, Module.createRequire(TYPESCRIPT), module, TYPESCRIPT, path.dirname(TYPESCRIPT));
  return module.exports as typeof ts;
}

test('the build made a compact copy of the installed typescript.js, a good deal smaller, and the snapshot takes it', () => {
  const copy = compactCopyOf(TYPESCRIPT, STARTUP);
  assert.equal(copy, path.join(STARTUP, COMPACT_SOURCE));
  const compactSize = fs.statSync(copy).size;
  const size = fs.statSync(TYPESCRIPT).size;
  assert.ok(compactSize < size * 0.6, `compact copy ${compactSize} B of typescript.js's ${size} B`);
  assert.equal(loadCompact(copy).version, ts.version);
});

test('what a cell that imports typescript sees of it is the same: class and function names, and stack frames that point into the file that runs', () => {
  const copy = compactCopyOf(TYPESCRIPT, STARTUP)!;
  const compact = loadCompact(copy);
  const nodeOf = (t: typeof ts): ts.Statement => t.createSourceFile('a.ts', 'let a = 1', t.ScriptTarget.Latest).statements[0]!;
  assert.equal(nodeOf(compact).constructor.name, nodeOf(ts).constructor.name);
  assert.equal(compact.createSourceFile.name, 'createSourceFile');
  const debugName = (t: typeof ts): string => (t as unknown as { Debug: { getFunctionName(f: unknown): string } }).Debug.getFunctionName(t.isIdentifier);
  assert.equal(debugName(compact), debugName(ts));
  let stack = '';
  try {
    (compact.createSourceFile as unknown as (...args: unknown[]) => unknown)(null, null, 99);
  } catch (error) {
    stack = (error as Error).stack ?? '';
  }
  assert.match(stack, new RegExp(`at (Object\\.)?createSourceFile \\(${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+\\)`), stack);
});

test('a copy made from another typescript.js (another size, or the same size and other bytes), or without its manifest, is not taken', () => {
  const dir = folder();
  fs.copyFileSync(path.join(STARTUP, COMPACT_SOURCE), path.join(dir, COMPACT_SOURCE));
  const installed = fs.readFileSync(TYPESCRIPT);
  const other = path.join(dir, 'typescript.js');
  assert.equal(compactCopyOf(other, dir), null, 'no manifest');
  fs.copyFileSync(path.join(STARTUP, COMPACT_MANIFEST), path.join(dir, COMPACT_MANIFEST));
  fs.writeFileSync(other, installed);
  assert.equal(compactCopyOf(other, dir), path.join(dir, COMPACT_SOURCE), 'the same bytes: taken');
  const changed = Buffer.from(installed);
  changed[changed.length - 2] ^= 1;
  fs.writeFileSync(other, changed);
  assert.equal(compactCopyOf(other, dir), null, 'same size, one byte changed');
  fs.writeFileSync(other, Buffer.concat([installed, Buffer.from('\n')]));
  assert.equal(compactCopyOf(other, dir), null, 'another size');
  fs.writeFileSync(other, installed);
  fs.rmSync(path.join(dir, COMPACT_SOURCE));
  assert.equal(compactCopyOf(other, dir), null, 'the copy itself missing');
});

const CELLS: readonly string[] = [TYPED_CELL(1), ...GATHERED_CELLS];

test('the compact copy transpiles every cell of the corpus as typescript.js does', () => {
  const compact = loadCompact(compactCopyOf(TYPESCRIPT, STARTUP)!);
  const options: ts.TranspileOptions = { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS }, reportDiagnostics: true };
  for (const cell of CELLS) {
    const expected = ts.transpileModule(cell, options);
    const actual = compact.transpileModule(cell, options as never);
    assert.equal(actual.outputText, expected.outputText, cell);
    assert.deepEqual(actual.diagnostics?.map((d) => d.code), expected.diagnostics?.map((d) => d.code), cell);
  }
});

test('the compact copy checks the corpus as typescript.js does: every diagnostic, place and text, loose and strict', () => {
  const compact = loadCompact(compactCopyOf(TYPESCRIPT, STARTUP)!);
  for (const strict of [false, true]) {
    const dir = folder();
    if (strict) fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
    const verdicts = (t: typeof ts): string[][] => {
      const checker = new CellChecker(t, dir, loadCheckerConfig(t, dir), t.createDocumentRegistry(), true);
      // Each cell alone, against no history: the corpus's cells come from many notebooks.
      return CELLS.map((cell) => checker.check(cell).diagnostics.map((d) => `${d.line}:${d.column}+${d.length} TS${d.code} ${d.message}`));
    };
    const expected = verdicts(ts);
    assert.ok(expected.some((diagnostics) => diagnostics.length > 0), 'the corpus has error cells');
    assert.deepEqual(verdicts(compact), expected);
  }
});
