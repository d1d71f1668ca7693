// The text path (text-emit.ts: one parse, type syntax blanked, the REPL rewrite as insertions)
// must emit what transpileModule emits. Every cell of the corpus goes through both paths: the
// two function bodies, parsed again, must be the same tree (parentheses and empty statements
// aside: TypeScript drops the parentheses a type assertion needed, and an erased statement
// leaves a `;`), and toCell must send each token the cell wrote to the same place on both paths
// (tracebacks and op call sites are told through it). Cells the text path cannot emit exactly
// must go to transpileModule; the bench's cell must not.
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { test } from 'node:test';
import ts from 'typescript';
import { emitCellStrict as emitCell, transpileCell, type TranspiledCell } from '../../kernel/interpreter/typescript/transpile';
import { TYPED_CELL } from '../../bench/lib/typed-cell';
import { GATHERED_CELLS } from './text-emit-corpus';

/** Cells the text path must take, each aimed at one rule. */
const EDGE_CELLS: readonly string[] = [
  TYPED_CELL(1),
  // declarations at the top level become globals
  'const { a, b: [c = 1, ...d], e: { f } = {}, ...g }: any = obj;\ng',
  'let [x, , y = 2, ...z]: number[] = [1, 2, 3, 4, 5]\nlet w\nvar v\nvar u = 1, t: string = "s", { s }: any = {}',
  'export const exported: number = 1;\nexport function exportedF(): void {}\nexport class ExportedC {}\nexport { exported as renamed };\nexported',
  'function hoisted<T>(x: T): T { return x }\nhoisted(1)',
  'async function* gen(): AsyncGenerator<number> { yield 1; yield* [2, 3] }\nfor await (const n of gen()) console.log(n)',
  'label: for (const i of [1, 2]) { for (const j of [3]) { if (i) continue label; break label } }',
  'await Promise.resolve(1)',
  'const r = await import("node:path");\nimport("node:os").then((os) => os.EOL)',
  'import fs from "node:fs";\nimport * as path from "node:path";\nimport { join, type ParsedPath, sep as separator } from "node:path";\nimport type { Stats } from "node:fs";\nimport "node:util";\nimport {} from "node:url"',
  'import { join } from "node:path"',
  'import type { Stats } from "node:fs";\nlet st: Stats | undefined',
  // ASI: a blanked type must not join two statements
  'let a = b as any\n(c)',
  'const obj = { a: 1 }\nconst { a } = obj\nconst [x1] = [10]\nconst { b: bb } = obj as any\nconst { c } = obj!\nlet { y } = obj satisfies object\nconst [z] = [obj]   as   any[]   // note\nz',
  'let a2 = b\ninterface I { x: number }\n(c)',
  'let a3 = b\ntype T = number\n[1, 2].forEach(f)',
  'x = y!\n(z)',
  'const q = f<number>\n(1)',
  'function r1() { return x as\n  any }\nr1()',
  'function r2() { return (\n  x as any) }',
  'class F1 { a: number\n [k: string]: any\n b = 1 }',
  'class F2 { a?: number\n ["c"] = 2 }',
  'class F3 { a!: number\n b: string }',
  'declare const dc: number\n(dc)',
  'declare function df(x: number): void;\ndeclare module "m" { export const y: number }\ndeclare global { var gv: number }\n1',
  // type syntax in expressions
  '<T,>(x: T) => x',
  'const id = <T extends object = {}>(x: T): T => x;\nid',
  'f<number>(1); new Map<string, number>(); tag<string>`a${1}b`; const inst = f<number>;',
  'const z1 = x as any as T; const z2 = <any>x; const z3 = x satisfies unknown; const z4 = (x as any).y;',
  'a?.b!.c; a!?.b; (a as any)!.b!.c!(); a![0]!;',
  'const nested = new Array<Array<number>>(); const m = f<Array<Map<string, number>>>(x)',
  'function thisParam(this: Window, a: number) { return a }\nfunction onlyThis(this: void) {}\nfunction trailing(this: void,) {}',
  'function opt(a?: number, b: string = "x", ...rest: number[]): void {}',
  'function over(a: number): number;\nfunction over(a: string): string;\nfunction over(a: any): any { return a }\nover(1)',
  'const o = { m<T>(x: T): T { return x }, get g(): number { return 1 }, set s(v: number) {}, async *ag(): AsyncGenerator<number> {} }',
  'try { throw 1 } catch (e: unknown) { console.log(e) }',
  'for (let i: number = 0; i < 2; i++) {}\nfor (const k in {}) {}\nfor (const v of [] as number[]) {}',
  'const tpl = `a ${x as number} b ${`c ${y!}`}`',
  // classes
  'abstract class Base<T> implements I, J {\n  abstract m(): void;\n  abstract p: number;\n  declare d: string;\n  protected readonly x: number = 1;\n  private y?: string;\n  public static z = 2;\n  static { Base.z = 3; }\n  #priv: number = 4;\n  override toString(): string { return "b" }\n  get v(): number { return this.x }\n  set v(n: number) {}\n  m2?(): void {}\n  [key: string]: any;\n}',
  'class D extends Base<number> implements I {\n  constructor(public a: number, private readonly b = 2) {\n    super();\n    console.log(a);\n  }\n}',
  'class D2 extends Base {\n  constructor(public a: number) { "use strict"; super() }\n}',
  'class P { constructor(private readonly items: T[] = [], plain?: number) {} }',
  'class Q { constructor(readonly x: number) { }\n}\nnew Q(1).x',
  'class Ov { constructor(a: number); constructor(a: any) {} m(): void; m(a?: any) {} }',
  'const Cx = class<T> { v: T | undefined };\nnew Cx<number>()',
  'class G<T> { static create<U>(this: void, u: U): G<U> { return new G<U>() } }',
  // comments and source-map lines in a cell
  '// a comment\nconst c1: number = 1 // trailing\n/* block\n comment */ c1 + /* inline */ 2\n//# sourceMappingURL=data:application/json;base64,e30=',
  'const lines: string = "a\\u2028b";\nlines',
  'x as any;',
  'let x1 = 1, y1: number\nexport async function ef(): Promise<void> {}\nexport abstract class EA<in out T> {}\nexport * as ns from "m";\nexport default 42;',
  'function asserts(x: unknown): asserts x is string {}\nfunction ret(): {\n  a: number\n} { return { a: 1 } }',
  'const af = async <T,>(x: T): Promise<T> => x; x = <any>(y); new Foo<string>; const ac = { a: 1 } as const',
  'let u = a as unknown as string[]\n[0].map(f)\nlet v = x!\n[0]',
  'for (const [k, v] of Object.entries(o) as [string, number][]) {}\nlbl: { break lbl }',
  'class St { static x: number; static { St.x = 1 } declare y: string; z?: number = undefined }',
  'function deco(target: any, key?: string): any { return target }',
  'const crlf: number = 1;\r\nfunction g2(a: number,\r\n  b?: string): void {}\r\ncrlf as number',
  'let big: bigint = 10n; const re = /a<b>c/g; const neg = -1 as number',
];

/** Cells only transpileModule emits exactly. */
const FALLBACK_CELLS: readonly string[] = [
  'enum E { A, B }',
  'const enum CE { A }',
  'namespace N { export const x = 1 }',
  'module M { export const y = 1 }',
  '@dec class C {}',
  'class C { @dec m() {} }',
  'import fs = require("fs")',
  'export = 1',
  'export default function () {}',
  'export default class {}',
  'class C { accessor x = 1 }',
  'class C extends B { constructor(public a: number) { foo(); super() } }',
  '"use strict";\n1',
  'using u = thing',
  'const { a }: any = o, [b] = c; let { d }',
  'import data from "./d.json" with { type: "json" }',
  'import { "a-b" as ab } from "m"',
  'function f() { enum Inner { A } }',
  'const m = import.meta',
];

interface Token { kind: ts.SyntaxKind; text: string; start: number }

/** The body's tree, parentheses and empty statements aside, as text; and its tokens in order. */
function shape(body: string): { tree: string; tokens: Token[]; file: ts.SourceFile } {
  const file = ts.createSourceFile('out.ts', `function __cell() {\n${body}\n}`, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  assert.deepEqual((file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics.map((d) => d.messageText), [], body);
  const parts: string[] = [];
  const tokens: Token[] = [];
  const walk = (node: ts.Node): void => {
    if (ts.isParenthesizedExpression(node)) return walk(node.expression);
    if (ts.isEmptyStatement(node) || node.kind === ts.SyntaxKind.SemicolonClassElement) return;
    const children: ts.Node[] = [];
    ts.forEachChild(node, (child) => {
      if (!ts.isEmptyStatement(child) && child.kind !== ts.SyntaxKind.SemicolonClassElement) children.push(child);
    });
    if (children.length === 0) {
      // A literal by its value (quotes and escapes are the printer's), an empty block or list by its kind alone.
      const text = node.kind >= ts.SyntaxKind.FirstLiteralToken && node.kind <= ts.SyntaxKind.LastTemplateToken ? (node as ts.LiteralLikeNode).text
        : node.kind < ts.SyntaxKind.FirstNode ? node.getText(file) : '';
      parts.push(`${ts.SyntaxKind[node.kind]}:${JSON.stringify(text)}`);
      tokens.push({ kind: node.kind, text, start: node.getStart(file) });
      return;
    }
    parts.push(`(${ts.SyntaxKind[node.kind]}`);
    for (const child of children) walk(child);
    parts.push(')');
  };
  for (const statement of (file.statements[0] as ts.FunctionDeclaration).body!.statements) walk(statement);
  return { tree: parts.join(' '), tokens, file };
}

/** Where a token of the function body is, as toCell is asked: 1-based line and column of the body. */
function bodyPosition(file: ts.SourceFile, start: number): { line: number; column: number } {
  const { line, character } = file.getLineAndCharacterOfPosition(start);
  return { line, column: character + 1 }; // the wrapper's first line makes `line` 1-based already
}

/** Words of the wrapper and of the rewrite (the loops' interrupt check among them), never in the cell at that place. */
const MADE_WORDS = new Set(['return', 'async', 'await', 'globalThis', '__tsgpu', 'bindImports', 'this', 'if', 'Atomics', 'load', 'line', 'pending', 'loop']);
const totals = { compared: 0, coarse: 0 };

function compare(code: string, fast: TranspiledCell, slow: TranspiledCell): void {
  const a = shape(fast.functionBody);
  const b = shape(slow.functionBody);
  assert.equal(a.tree, b.tree, `trees differ for:\n${code}\n--- text path:\n${fast.functionBody}\n--- transpileModule:\n${slow.functionBody}`);
  assert.equal(a.tokens.length, b.tokens.length);
  const lines = code.split(/\r\n|[\n\r\u2028\u2029]/);
  const isWord = (kind: ts.SyntaxKind): boolean => kind === ts.SyntaxKind.Identifier || (kind >= ts.SyntaxKind.FirstKeyword && kind <= ts.SyntaxKind.LastKeyword);
  let compared = 0;
  let coarse = 0;
  a.tokens.forEach((token, index) => {
    const fastAt = bodyPosition(a.file, token.start);
    const cellAt = fast.toCell(fastAt.line, fastAt.column);
    assert.ok(cellAt, `'${token.text}' (body ${fastAt.line}:${fastAt.column}) unmapped for:\n${code}`);
    if (!isWord(token.kind)) return;
    const other = b.tokens[index]!;
    const slowAt = bodyPosition(b.file, other.start);
    const slowCellAt = slow.toCell(slowAt.line, slowAt.column);
    // transpileModule maps a node the rewrite made (globalThis, the targets of `({ a: globalThis.a } = o)`) to the whole
    // declaration: there its map says nothing about the word itself. Everywhere else it names the word in the cell.
    if (!slowCellAt || !(lines[slowCellAt.line - 1] ?? '').startsWith(token.text, slowCellAt.column - 1)) {
      if (!MADE_WORDS.has(token.text)) coarse++;
      return;
    }
    compared++;
    assert.deepEqual(cellAt, slowCellAt,
      `'${token.text}' (token ${index}, body ${fastAt.line}:${fastAt.column}) maps elsewhere than on transpileModule's path for:\n${code}\n--- text path:\n${fast.functionBody}\n--- transpileModule:\n${slow.functionBody}`);
  });
  totals.compared += compared;
  totals.coarse += coarse;
}

test('the text path emits what transpileModule emits, and maps tokens back alike', () => {
  for (const code of EDGE_CELLS) {
    const fast = emitCell(ts, code);
    assert.ok(fast, `the text path refused:\n${code}`);
    compare(code, fast, transpileCell(ts, code));
  }
  let taken = 0;
  for (const code of GATHERED_CELLS) {
    const fast = emitCell(ts, code);
    if (!fast) continue;
    taken++;
    compare(code, fast, transpileCell(ts, code));
  }
  // Most words are compared; transpileModule's map is coarse only where the rewrite made nodes.
  assert.ok(totals.compared > 20 * totals.coarse, JSON.stringify(totals));
  // Nearly every cell the kernel's tests run goes the fast way.
  assert.ok(taken > GATHERED_CELLS.length * 0.9, `${taken} of ${GATHERED_CELLS.length}`);
  if (process.env.TEXT_EMIT_STATS) console.log(JSON.stringify({ taken, of: GATHERED_CELLS.length, ...totals }));
});

test('what only transpileModule emits exactly goes to it', () => {
  for (const code of FALLBACK_CELLS) assert.equal(emitCell(ts, code), null, code);
});

test('a cell with a syntax error goes to transpileModule, which reports it', () => {
  assert.equal(emitCell(ts, 'const = 1'), null);
  assert.ok(transpileCell(ts, 'const = 1').syntaxErrors.length > 0);
});

test('cells run alike on both paths (ASI around blanked types, parameter properties, the value)', async () => {
  const cells = [
    'let b = (v: number) => v * 2; let c = 3\nlet a = b as any\n(c)\na',
    'let n = 1\ntype T = number\n[n].length',
    'class K { constructor(private readonly items: number[] = [1]) {} get size(): number { return this.items.length } }\nnew K().size',
    'function f(): number { return 1 as\n number }\nf()',
    'const { p = 5, ...rest }: any = { q: 1 };\n[p, rest.q]',
    // A destructuring after a line without `;` (the line must not be called), or whose
    // initializer ends in a blanked `as T`, `satisfies T` or `!` (the `;` goes outside the parentheses).
    'const obj = { a: 1, b: 2 }\nconst { a } = obj\nconst [x1] = [10]\n;[a, x1]',
    'const t = `a`\nconst [u] = [t]\nu',
    'const aw = await Promise.resolve({ r: 1 })\nconst { r } = aw\nr',
    'const { h }: { h: number } = { h: 1 }\nconst [i]: number[] = [2]\nh + i',
    'const ob = { x: 1 }\nconst { x: renamed = 5 } = ob, y = 2\nrenamed + y',
    'const o1 = { b: 2 }\nconst { b: bb } = o1 as any\nbb',
    'const o2 = { a: 1 };\nconst { a } = o2!\na',
    'const o3 = { a: 3 }\nconst [ a ] = [o3]   as   any[]   // note\na.a',
    'export const { ea, eb = 2 } = { ea: 1 } as { ea: number, eb?: number }\nea + eb',
    'let { y } = { y: 2 } satisfies { y: number }\ny',
    'const { p } = { p: 1 } as const\n(() => p)()',
    // `<T>` before an object literal or a function expression: blanked, the arrow's body would be a
    // block (returning undefined) and the statement a declaration.
    'const ca = () => <any>{ a: 1 }\nca()',
    '[1, 2].map((v: number) => <any>{ v })',
    'const mk = (n: number) => <{ n: number }>{ n }\nmk(3).n * 2',
    '<any>function hh() { return 1 }\n;typeof hh',
    'const k = async () => <any>{ k: 1 }\nawait k()',
  ];
  for (const code of cells) {
    const results = [];
    // What the kernel runs (the text path, or TypeScript's emit where the text path refuses) against TypeScript's emit.
    for (const transpiled of [emitCell(ts, code) ?? transpileCell(ts, code), transpileCell(ts, code)]) {
      assert.ok(transpiled);
      const context = vm.createContext({});
      results.push(JSON.stringify(await (vm.runInContext(`(function () { ${transpiled.functionBody} })()`, context) as Promise<unknown>)));
    }
    assert.equal(results[0], results[1], code);
  }
});

test('a cell that declares a function runs strict, as one that does not (the prologue stays first on both paths)', async () => {
  const probe = 'const o = Object.freeze({ a: 1 }) as any\nlet mode = "sloppy"; try { o.a = 2 } catch { mode = "strict" }\nmode';
  for (const code of [probe, `function declared() {}\n${probe}`]) {
    for (const transpiled of [emitCell(ts, code), transpileCell(ts, code)]) {
      assert.ok(transpiled);
      const value = await (vm.runInContext(`(function () { ${transpiled.functionBody} })()`, vm.createContext({})) as Promise<unknown>);
      assert.equal(value, 'strict', `${code}\n--- emitted:\n${transpiled.functionBody}`);
    }
  }
});
