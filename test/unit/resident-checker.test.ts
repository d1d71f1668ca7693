// The resident type checker (one checker kept across cells) must give every cell the verdict a
// fresh LanguageService program gives it. Each notebook below runs through two CellCheckers, one
// keeping its checker and one checking through the LanguageService alone, and every cell's
// diagnostics and the history both build must be equal.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import ts from 'typescript';
import { CellChecker } from '../../kernel/interpreter/typescript/checker';
import { loadCheckerConfig } from '../../kernel/interpreter/typescript/compiler-options';
import { RESIDENT_CHECK_LIMIT } from '../../kernel/interpreter/typescript/resident-checker';
import { PACKAGE_ROOT } from '../../kernel/package-info';

/** Notebook folders the tests made: removed when the file's tests end. */
const madeFolders: string[] = [];
after(() => { for (const folder of madeFolders) fs.rmSync(folder, { recursive: true, force: true }); });
function madeFolder(folder: string): string {
  madeFolders.push(folder);
  return folder;
}

interface Verdict { cell: number; diagnostics: string[] }

function notebookDirectory(strict: boolean): string {
  const directory = madeFolder(fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-resident-')));
  if (strict) fs.writeFileSync(path.join(directory, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
  return directory;
}

/** Checks each cell, and runs (commits) those without errors, as the interpreter does. */
/** The history module's text: what later cells see of earlier ones. */
const historyOf = (checker: CellChecker): string => (checker as unknown as { history: { text(): string } }).history.text();

function run(checker: CellChecker, cells: string[]): { verdicts: Verdict[]; names: string[]; history: string; alone: number[] } {
  const alone: number[] = [];
  const verdicts = cells.map((code, cell) => {
    const before = checker.residentErrors;
    const checked = checker.check(code);
    if (checker.residentErrors > before) alone.push(cell);
    // Everything the user is shown of a diagnostic: where (line, column, length), its kind, its text.
    const diagnostics = [...checked.diagnostics, ...checked.declarationWarnings].map((d) => `${d.line}:${d.column}+${d.length} ${d.category === 'error' ? '' : `${d.category} `}TS${d.code} ${d.message}`);
    if (!checked.diagnostics.some((d) => d.category === 'error')) checked.commit();
    checker.flush();
    return { cell, diagnostics };
  });
  return { verdicts, names: checker.userNames().sort(), history: historyOf(checker), alone };
}

/** What the kernel does besides checking: loads Node's declarations once idle, the tensor API's once a cell uses tensors. */
interface Setup { nodeTypesAfterFirstCell?: boolean; tensors?: boolean; files?: Record<string, string> }

function compare(cells: string[], strict: boolean, setup: Setup = {}): { resident: number; alone: number[]; verdicts: Verdict[]; history: string } {
  const directory = notebookDirectory(strict);
  for (const [name, text] of Object.entries(setup.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(directory, name)), { recursive: true });
    fs.writeFileSync(path.join(directory, name), text);
  }
  const kept = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), true);
  const fresh = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), false);
  for (const checker of [kept, fresh]) {
    if (setup.tensors) checker.addDeclarations(path.join(PACKAGE_ROOT, 'kernel', 'types', 'tensors.d.ts'));
    if (setup.nodeTypesAfterFirstCell) {
      const original = checker.check.bind(checker);
      let checked = 0;
      checker.check = (code, diagnose) => {
        if (checked++ === 1) checker.loadDeferredTypes();
        return original(code, diagnose);
      };
    }
  }
  const withResident = run(kept, cells);
  const alone = run(fresh, cells);
  assert.deepEqual(withResident.verdicts, alone.verdicts);
  assert.deepEqual(withResident.names, alone.names);
  assert.equal(withResident.history, alone.history);
  assert.equal(fresh.residentChecks, 0);
  assert.equal(fresh.residentErrors, 0);
  // `alone`: the error cells whose diagnostics the kept checker gave with no LanguageService check.
  return { resident: kept.residentChecks, alone: withResident.alone, verdicts: withResident.verdicts, history: withResident.history };
}

const NOTEBOOK = [
  'let n = 1; const s = \'a\';',
  'n = n + 1; s.toUpperCase()',
  'interface P { x: number; y?: string }\nconst p: P = { x: 1 };',
  'p.y?.length ?? 0',
  'class A { constructor(public v: number) {} twice() { return this.v * 2; } }\nnew A(2).twice()',
  'const a = new A(\'x\');',
  'enum Color { Red, Green }\nconst c: Color = Color.Green;\nc',
  'namespace NS { export const k = 3; }\nNS.k + 1',
  'function g<T>(x: T[]): T | undefined { return x[0]; }\ng([1, 2])?.toFixed()',
  'const r = await Promise.resolve(5);\nr.toFixed()',
  'let n = \'now a string\';\nn.length',
  'n.toFixed()',
  '// @ts-ignore\nconst z: number = \'x\';',
  '// @ts-expect-error\nconst z2: number = 1;',
  'const m = new Map<string, number[]>();\nm.set(\'a\', [1]);\nm.get(\'a\')?.map((v) => v * 2)',
  'p.z',
  'const big = [1, 2, 3].reduce((acc, v) => acc + v, 0);\nbig.toFixed(2)',
  'type U = \'a\' | \'b\';\nconst u: U = \'c\';',
  'type U = \'a\' | \'b\' | \'c\';\nconst u: U = \'c\';',
  'u.length + big',
  'function over(x: number): number;\nfunction over(x: string): string;\nfunction over(x: unknown) { return x; }\nover(1).toFixed()',
  'over(true)',
  'const { x: px, ...rest } = p;\npx + (rest.y ?? \'\').length',
  'class B extends A { thrice() { return this.v * 3; } }\nnew B(1).thrice() + new B(2).twice()',
  'const fn = (k: keyof P) => p[k];\nfn(\'x\')',
  'fn(\'w\')',
];

test('strict notebook: every verdict and the history equal the LanguageService\'s, and most cells are checked by the kept checker', () => {
  const { resident, verdicts } = compare(NOTEBOOK, true);
  // The notebook has errors where expected (so the comparison compares something).
  const failing = verdicts.filter((v) => v.diagnostics.length > 0).map((v) => v.cell);
  assert.deepEqual(failing, [5, 11, 13, 15, 17, 21, 25]);
  assert.ok(resident >= 12, `only ${resident} cells took the kept checker`);
});

test('tslab-style notebook under TypeScript\'s defaults: same verdicts', () => {
  const { resident } = compare([
    'let obj = { x: null };\nobj?.x',
    'function cb(f) { return f(1); }\ncb((v) => v + 1)',
    'let anyThing;\nanyThing = 3;\nanyThing.foo',
    'const list = [];\nlist.push(1);\nlist',
    'obj.x.z',
  ], false);
  assert.ok(resident >= 3, `only ${resident} cells took the kept checker`);
});

test('cells the kept checker cannot check exactly go to the LanguageService, with the same verdicts', () => {
  compare([
    'const base = 1;',
    'declare global { var gv: number }\nexport {};\ngv',
    'gv + base',
    'import { readFileSync } from \'node:fs\';\ntypeof readFileSync',
    'readFileSync.length + base',
    'type T = typeof import(\'node:path\');\nconst j: T[\'join\'] = (...parts: string[]) => parts.join(\'/\');',
    'j(\'a\', \'b\').length',
    'process.env[\'HOME\']?.length',
    '// @ts-nocheck\nconst unchecked: number = \'text\';',
    'unchecked.length',
    'const later: number = base + 1;\nlater',
  ], true);
});

test('after a `declare global` cell, later cells take the kept checker while the history\'s global blocks stay as they were, with the same verdicts', () => {
  const { resident } = compare([
    'interface Shape { sides: number }\nconst base = 1;',
    'declare global { var gv: number; interface Array<T> { firstOr(fallback: T): T } }\nexport {};',
    'gv + base',
    '[1, 2].firstOr(0).toFixed()',
    'const wrong: string = [1].firstOr(0);',
    'const more = gv * 2;',
    'more.toFixed() + base',
    // A block naming the history's own Shape: after Shape is redefined, a fresh program reads the
    // global with the new Shape; a checker that merged the block earlier would keep the old one.
    'declare global { var shaped: Shape }\nexport {};',
    'shaped.sides + 1',
    'interface Shape { corners: string }',
    'shaped.corners.length',
    'shaped.sides',
    'gv',
  ], true);
  assert.ok(resident >= 3, `only ${resident} cells took the kept checker`);
});

test('`declare global` blocks of several cells add up: a later block redefines only the names it declares', () => {
  const cells = [
    'declare global { var gv: number; interface G2 { w: number } }\nexport {};\nglobalThis.gv = 1;',
    'declare global { var gw: string }\nexport {};',
    'gv + 1',
    'gw.length',
    'declare global { interface G2 { v: string } }\nexport {};',
    'const g2 = {} as G2;\ng2.v.length + gv',
    'g2.w',
    'const bad: number = gw;',
  ];
  const { verdicts } = compare(cells, true);
  const failing = verdicts.filter((v) => v.diagnostics.length > 0).map((v) => v.cell);
  assert.deepEqual(failing, [6, 7]);
  // Global names are no names of the history: no later cell imports them (nor a name `global`).
  const directory = notebookDirectory(true);
  const checker = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), true);
  run(checker, cells);
  assert.deepEqual(checker.userNames().filter((name) => ['global', 'gv', 'gw', 'G2'].includes(name)), []);
});

test('a cell\'s module augmentation stays in scope for later cells; later ones add up, a redeclared name is replaced', () => {
  const cells = [
    'import { Command } from \'./commands\'\ndeclare module \'./commands\' { interface Command { extra?: number } }\nconst cm = new Command(); cm.extra = 2; cm.extra',
    'cm.extra',
    'const asString: string = cm.extra;',
    // A cell that only augments (no name of its own) is kept too.
    'declare module \'./commands\' { interface Options { verbose: boolean } }\nexport {};',
    'const o: import(\'./commands\').Options = { verbose: true };\no.verbose',
    '(cm.extra ?? 0) + cm.name.length',
    'declare module \'./commands\' { interface Command { extra?: string } }\nexport {};',
    'const s2: string | undefined = cm.extra;',
    'const n2: number | undefined = cm.extra;',
    // The same augmentation run again leaves the history as it was.
    'declare module \'./commands\' { interface Command { extra?: string } }\nexport {};',
    'cm.extra?.length',
    'const late = cm.name;',
    'late.length + (cm.extra?.length ?? 0)',
    'const wrong: number = late;',
    // An augmentation naming a type of an earlier cell means that cell's latest declaration of it.
    'interface Extra { k: number }',
    'declare module \'./commands\' { interface Command { ex?: Extra } }\nexport {};',
    'const k1: number | undefined = cm.ex?.k;',
    'interface Extra { k: string }',
    'const k2: number | undefined = cm.ex?.k;',
  ];
  const files = { 'commands.ts': 'export class Command { name = \'c\'; }\nexport interface Options { quiet?: boolean }\n' };
  const { resident, verdicts } = compare(cells, true, { files });
  const failing = verdicts.filter((v) => v.diagnostics.length > 0).map((v) => v.cell);
  assert.deepEqual(failing, [2, 8, 13, 18]);
  // A history with augmentations is one the kept checker serves, while they stay as they are.
  assert.ok(resident >= 3, `only ${resident} cells took the kept checker`);
  assert.match(verdicts[2]!.diagnostics[0]!, /TS2322 Type 'number \| undefined' is not assignable to type 'string'/);
});

test('a .d.ts next to the notebook that one cell references (`/// <reference path>`) declares its modules for every later cell', () => {
  const cells = [
    'declare module \'fake-mod\' { export const fv: number }',
    '/// <reference path="./fake.d.ts" />\nimport { fv } from \'fake-mod\'\nfv.toFixed()',
    'import { fv as f2 } from \'fake-mod\'\nf2.toFixed()',
    'const late = 1;',
    'late + fv',
    'const bad: string = fv;',
  ];
  const files = { 'fake.d.ts': 'declare module \'fake-mod\' { export const fv: number }\n' };
  const { resident, verdicts } = compare(cells, true, { files });
  const failing = verdicts.filter((v) => v.diagnostics.length > 0).map((v) => v.cell);
  assert.deepEqual(failing, [0, 5]);
  assert.match(verdicts[0]!.diagnostics[0]!, /TS2664/);
  // The history's reference is one the kept checker's program was made with: it serves the later cells.
  assert.ok(resident >= 1, `only ${resident} cells took the kept checker`);
});

test('types named by import("x") in the history (tensors, a package, Node) stay those types for later cells', () => {
  const { verdicts } = compare([
    'const t1 = tf.tensor([1, 2, 3]);',
    'const n: number = t1;',
    't1.nope',
    'const m = tf.sequential();\nm.add(tf.layers.dense({ units: 2, inputShape: [3] }));',
    'm.nope()',
    'const p = await import(\'node:path\');\nconst parsed = p.parse(\'/a/b.txt\');',
    'const bad: number = parsed;',
    'parsed.base.length',
    'import { Command } from \'commander\';\nconst cmd = new Command();',
    'const opts = cmd.opts();',
    'const o: number = cmd.opts();',
    'opts.nope + t1.shape.length',
  ], true, { nodeTypesAfterFirstCell: true, tensors: true });
  const failing = verdicts.filter((v) => v.diagnostics.length > 0).map((v) => v.cell);
  assert.deepEqual(failing, [1, 2, 4, 6, 10]);
});

test('a cell run again unchanged is not checked again: it neither spends the kept checker nor leaves another parsed cell in it', () => {
  const directory = notebookDirectory(true);
  const checker = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), true);
  /** The kept checker, reached past `private`: which one checks is what this test is about. */
  const kept = (): object | null => (checker as unknown as { resident: object | null }).resident;
  run(checker, ['const x: number = 1;', 'x + 1']);
  const first = kept();
  assert.ok(first !== null, 'no kept checker after two cells');
  // More runs of one cell than a kept checker serves before it is replaced: each new check of it
  // would parse it again, and the checker keeps every cell it checked until it is replaced.
  const again = run(checker, Array.from({ length: RESIDENT_CHECK_LIMIT + 50 }, () => 'x + 1'));
  assert.ok(again.verdicts.every((v) => v.diagnostics.length === 0));
  assert.equal(kept(), first, `the kept checker was replaced after ${RESIDENT_CHECK_LIMIT + 50} runs of an unchanged cell`);
  // An edit is checked: its error found, and the cell after it checked as well.
  const edited = run(checker, ['x + "a" * 2', 'x + 1']);
  assert.deepEqual(edited.verdicts.map((v) => v.diagnostics.length > 0), [true, false]);
});

/** The cells of a verdict list that have errors. */
const failingOf = (verdicts: Verdict[]): number[] => verdicts.filter((v) => v.diagnostics.some((d) => !/^\S+ (warning|suggestion|message) /.test(d))).map((v) => v.cell);

test('error cells: the kept checker\'s diagnostics stand alone where their text is the same as a fresh program\'s, and equal it word for word and place for place', () => {
  const cells = [
    'let n = 1; const k = 2; interface P { x: number; y?: string }\nconst p: P = { x: 1 };\nclass C { private secret = 1; }',
    // Kinds whose message prints no type (resident-checker.ts, SELF_EVIDENT).
    'nope + 1',
    'n + nn',
    'k = 3;',
    'p.y.length',
    'function f(a: number, b: number) { return a + b; }\nf(1)',
    'new C().secret',
    'const u1 = undefinedName;\nconst u2 = 1;',
    '"a" * 2',
    'function g(x) { return x; }',
    'let late: number;\nlate.toFixed()',
    // Kinds that print types go to the LanguageService: their text is a fresh program's.
    'const s: string = n;',
    'p.z',
    'f(\'a\', 2)',
    'const lit: \'b\' | \'a\' = \'c\';',
    'type AB = { kind: \'a\'; a: number } | { kind: \'b\'; b: string };\nconst ab: AB = { kind: \'a\', b: \'x\' };',
    // Two errors, one of each sort: the whole cell goes to the LanguageService.
    'nope2; const s2: string = n;',
    // The same error cell run again: the same diagnostics, from the kept verdict.
    'nope + 1',
    'n + 1',
  ];
  const { alone, verdicts } = compare(cells, true);
  assert.deepEqual(failingOf(verdicts), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  // Cell 1 is the first error while Node's declarations wait (their check decides); 11, 12 and 14–16 print
  // types; 13 finds no `f` (cell 5 failed, so it never ran).
  assert.deepEqual(alone, [2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 17]);
  assert.match(verdicts[1]!.diagnostics[0]!, /^1:1\+4 TS2304 Cannot find name 'nope'\.$/);
});

test('error cells after `declare global`, a module augmentation and imports: the same diagnostics as the LanguageService alone', () => {
  const cells = [
    'declare global { var gv: number; interface Array<T> { firstOr(fallback: T): T } }\nexport {};',
    'gv + gx',
    'gv = undefinedThing;',
    'const wrong: string = [1].firstOr(0);',
    'import { Command } from \'./commands\'\ndeclare module \'./commands\' { interface Command { extra?: number } }\nconst cm = new Command();',
    'cm.extra.toFixed()',
    'cmm.extra',
    'const s: string = cm.extra;',
    'import { readFileSync } from \'node:fs\';\nreadFileSync(missing)',
    'import { readFileSync as rf } from \'node:fs\';\nconst got = rf(\'x\', \'utf8\');',
    'got.nope()',
    'rf(1, 2, 3, 4)',
    'got + nothing',
    'const fine = got.length + gv;',
  ];
  const files = { 'commands.ts': 'export class Command { name = \'c\'; }\n' };
  const { alone, verdicts } = compare(cells, true, { files });
  assert.deepEqual(failingOf(verdicts), [1, 2, 3, 5, 6, 7, 8, 10, 11, 12]);
  // After the global block (2), the augmentation (6) and the imports (11, 12); cell 5 is the first
  // after the history imported './commands', which the kept checker's program had not resolved.
  assert.deepEqual(alone, [2, 6, 11, 12]);
});

test('a package an earlier cell imported for its side effects declares no globals for later cells, with or without the kept checker', () => {
  const files = {
    'node_modules/globpkg/package.json': JSON.stringify({ name: 'globpkg', version: '1.0.0', types: 'index.d.ts' }),
    'node_modules/globpkg/index.d.ts': 'export {};\ndeclare global { var fromPkg: number }\n',
  };
  const { verdicts } = compare(['import \'globpkg\';', 'fromPkg + 1', 'const after = 1;', 'fromPkg + after'], true, { files });
  assert.deepEqual(failingOf(verdicts), [1, 3]);
});

test('what only the declaration emit finds refuses no cell: a warning under either checker, and later cells see what the emit could write', () => {
  // Valid TypeScript whose .d.ts cannot say everything: an anonymous class type with private
  // members (TS4094), a function returning a type declared inside it (TS4025, TS4060).
  const { verdicts, history } = compare([
    'const A = class { private x = 1; get y() { return this.x; } };\nnew A().y',
    'function make() { class Local { protected q = 2; w = 1; } return new Local(); }\nconst made = make();',
    'made.w + new A().y',
    'made.nope',
    'function hidden() { interface H { h: number } const o: H = { h: 1 }; return o; }\nconst hv = hidden();',
    'interface Shown { s: number }\nfunction shown(): Shown { return { s: 1 }; }\nconst sv = shown();',
  ], true);
  const warned = (cell: number): string => verdicts[cell]!.diagnostics.join('\n');
  assert.match(warned(0), /warning TS4094 Property 'x' of exported anonymous class type/);
  assert.match(warned(1), /warning TS4094 Property 'q'/);
  assert.deepEqual(verdicts[2]!.diagnostics, []);
  assert.match(warned(3), /TS2339 Property 'nope' does not exist/);
  assert.match(warned(4), /warning TS40\d\d .*private name 'H'/);
  // A type declared at the top level is written down: nothing to warn about.
  assert.deepEqual(verdicts[5]!.diagnostics, []);
  assert.match(history, /export declare const A: \{/);
  assert.match(history, /export declare const made: \{/);
});

test("a plain cell's declarations are emitted after its check, not in it; a cell that may lose types is warned in its check", () => {
  // The kernel's own link to the history (an import of every earlier name) follows each cell's
  // code in the checker's text: taken for the user's import, it put the declaration transform
  // into every cell's check, before its reply.
  const directory = notebookDirectory(true);
  // The kept checker reaches TypeScript's declaration transform through the module object it is given.
  let transforms = 0;
  const counted = new Proxy(ts, {
    get: (target, key) => {
      const value: unknown = Reflect.get(target, key);
      if (key !== 'transformNodes' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        transforms++;
        return (value as (...callArgs: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const checker = new CellChecker(counted, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), true);
  const inCheck = (code: string): { inCheck: number; inFlush: number; warnings: number } => {
    transforms = 0;
    const checked = checker.check(code);
    assert.deepEqual(checked.diagnostics, [], code);
    const during = transforms;
    checked.commit();
    checker.flush();
    return { inCheck: during, inFlush: transforms - during, warnings: checked.declarationWarnings.length };
  };
  inCheck('const first = 1;');
  const before = checker.residentChecks;
  assert.deepEqual(inCheck('const later = first + 1;\nclass Kept<T> { constructor(readonly items: T[]) {} }'), { inCheck: 0, inFlush: 1, warnings: 0 });
  assert.deepEqual(inCheck('const A = class { private x = 1; };'), { inCheck: 1, inFlush: 0, warnings: 1 });
  // All by the kept checker: the LanguageService would emit through a program of its own.
  assert.equal(checker.residentChecks, before + 2);
});

test('completions from the kept checker are the LanguageService\'s, entry for entry, before and after the tensor API loads', () => {
  const directory = notebookDirectory(true);
  const make = (keep: boolean): CellChecker => new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), keep);
  const kept = make(true);
  const fresh = make(false);
  const cells = [
    'interface Shape { kind: \'circle\' | \'square\'; size: number }\nclass Box<T> { constructor(private readonly items: T[] = []) {} add(item: T): this { this.items.push(item); return this; } map<U>(f: (item: T) => U): Box<U> { return new Box(this.items.map(f)); } }',
    'let count = 1;\nconst box = new Box<Shape>().add({ kind: \'circle\', size: 1 });\nenum Mode { Fast, Slow }',
  ];
  for (const checker of [kept, fresh]) {
    for (const code of cells) {
      const checked = checker.check(code);
      assert.deepEqual(checked.diagnostics, []);
      checked.commit();
      checker.flush();
    }
  }
  // [text, cursor]: at the end unless a `|` marks the cursor.
  const requests = [
    'box.ma', 'Math.fl', 'cou', 'Mode.', 'new Bo', '"abc".to', 'box.map((s) => s.)|', 'const s: Shape = { kind: \'|\' }', 'box.|\nconst after = 1;',
    'process.', 'let z = { a: 1, bb: [1] }; z.bb.', 'const q: Sh', 'function f(x: Shape) { if (x.kind === \'circle\') x.| }', '/** @par|', '// @ts-ignore\nbox.',
  ];
  const entries = (info: ts.CompletionInfo | undefined): unknown => info && {
    flags: [info.isGlobalCompletion, info.isMemberCompletion, info.isNewIdentifierLocation],
    entries: info.entries.map((entry) => [entry.name, entry.kind, entry.kindModifiers, entry.sortText, entry.insertText, entry.replacementSpan]),
  };
  const compareAll = (): void => {
    for (const request of requests) {
      const cursor = request.includes('|') ? request.indexOf('|') : request.length;
      const code = request.replace('|', '');
      assert.deepEqual(entries(kept.completions(code, cursor)), entries(fresh.completions(code, cursor)), request);
    }
  };
  compareAll();
  // All but the cell with a comment directive and the unclosed comment (which hides the cell's link
  // to the history): the kept checker leaves both to the LanguageService.
  assert.equal(kept.residentCompletionLists, requests.length - 2);
  const before = kept.residentCompletionLists;
  for (const checker of [kept, fresh]) {
    checker.addDeclarations(path.join(PACKAGE_ROOT, 'kernel', 'types', 'tensors.d.ts'));
    checker.check('const t = tf.tensor([1, 2]);').commit();
    checker.flush();
  }
  requests.push('t.', 'tf.mat', 't.add(1).', 'tf.tidy(() => t.mul|(2))');
  compareAll();
  assert.equal(fresh.residentCompletionLists, 0);
  // The history now imports the tensor API, which the kept checker's program did not: the first
  // request goes to the LanguageService, whose program the next ones' kept checker is made over.
  assert.equal(kept.residentCompletionLists - before, requests.length - 3);
});

test('in a notebook folder whose name has capitals, `require("./")` lists its files, from either checker', () => {
  const directory = path.join(madeFolder(fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-resident-'))), 'MyNotebook');
  fs.mkdirSync(path.join(directory, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(directory, 'util.ts'), 'export const a = 1;');
  fs.writeFileSync(path.join(directory, 'lib', 'inner.ts'), 'export const b = 1;');
  for (const keep of [true, false]) {
    const checker = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry(), keep);
    const checked = checker.check('const n = 1;');
    checked.commit();
    checker.flush();
    const names = (code: string, cursor: number): string[] => (checker.completions(code, cursor)?.entries ?? []).map((entry) => entry.name).sort();
    assert.deepEqual(names('require("./")', 11), ['lib', 'util'], `kept checker: ${keep}`);
    assert.deepEqual(names('require("./lib/")', 15), ['inner'], `kept checker: ${keep}`);
  }
});
