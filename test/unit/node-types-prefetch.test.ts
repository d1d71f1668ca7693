// Node's declarations (@types/node) wait until a cell needs them; their files can be parsed ahead,
// one per call, into the registry the LanguageService takes files from. The program that then loads
// them must find every one ready (not parse it again), and give every cell the verdict a checker
// that parsed nothing ahead gives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import ts from 'typescript';
import { CellChecker } from '../../kernel/interpreter/typescript/checker';
import { loadCheckerConfig } from '../../kernel/interpreter/typescript/compiler-options';

/** Notebook folders the tests made: removed when the file's tests end. */
const madeFolders: string[] = [];
after(() => { for (const folder of madeFolders) fs.rmSync(folder, { recursive: true, force: true }); });
function madeFolder(folder: string): string {
  madeFolders.push(folder);
  return folder;
}

function notebookDirectory(): string {
  const directory = madeFolder(fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-prefetch-')));
  fs.writeFileSync(path.join(directory, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
  return directory;
}

const CELLS = [
  'const n = 1;',
  'const bad: string = n;',
  'Buffer.from(\'x\').nope',
  'process.env[\'HOME\']?.length',
  'const t = setTimeout(() => undefined, 1);\nt.refresh();',
  'const u = new URL(\'http://a\');\nconst p: number = u.port;',
  'import { readFileSync } from \'node:fs\';\nreadFileSync(1, 2, 3)',
  'nope + n',
];

test('Node\'s declaration files parsed ahead are the ones the program loads, and verdicts are those of a checker that parsed nothing ahead', () => {
  const directory = notebookDirectory();
  const registry = ts.createDocumentRegistry();
  const acquire = registry.acquireDocument.bind(registry);
  const parsedAhead = new Map<string, ts.SourceFile>();
  registry.acquireDocument = (fileName, ...rest) => {
    const file = acquire(fileName, ...rest);
    parsedAhead.set(fileName, file);
    return file;
  };
  const ahead = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), registry, true);
  const plain = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), true);
  ahead.warmUp();
  plain.warmUp();
  let steps = 0;
  while (ahead.prefetchDeferredTypes()) steps++;
  assert.ok(ahead.deferring, 'parsing ahead loaded Node\'s declarations into the program: only loadDeferredTypes may');
  assert.ok(steps > 20, `only ${steps} files parsed ahead`);
  ahead.loadDeferredTypes();
  const program = (ahead as unknown as { service: ts.LanguageService }).service.getProgram()!;
  const nodeFiles = program.getSourceFiles().filter((file) => file.fileName.includes('/@types/node/'));
  assert.ok(nodeFiles.length > 20);
  const parsedAgain = nodeFiles.filter((file) => parsedAhead.get(file.fileName) !== file).map((file) => file.fileName);
  assert.deepEqual(parsedAgain, [], 'the program parsed these again');
  const verdicts = (checker: CellChecker): string[][] => CELLS.map((code) => {
    const checked = checker.check(code);
    if (checked.diagnostics.length === 0) checked.commit();
    checker.flush();
    return checked.diagnostics.map((d) => `${d.line}:${d.column}+${d.length} TS${d.code} ${d.message}`);
  });
  const expected = verdicts(plain);
  assert.deepEqual(verdicts(ahead), expected);
  assert.deepEqual(expected.map((diagnostics) => diagnostics.length > 0), [false, true, true, false, false, true, true, true]);
});
