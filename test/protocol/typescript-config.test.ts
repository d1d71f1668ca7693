// The user's tsconfig.json is the type checker's: the nearest one from the notebook's folder (the
// kernel's working directory) upward, with `extends` and `paths`; without one, TypeScript's
// non-strict defaults, so code written for tslab runs; `%typecheck strict|loose` switches.
import assert from 'node:assert/strict';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { executeReply, resultText, streamText } from '../support/exchange';
import { freshKernel } from '../support/fixtures';
import type { Exchange, KernelClient } from '../support/kernel-client';
import { assertTsError, makeFolder } from '../support/typescript';

/** Code as tslab checks it: a property that TypeScript's non-strict defaults widen to `any`, untyped parameters. */
const TSLAB_STYLE = `let obj = { x: null };
const z = obj?.x?.z;
function apply(f, value) { return f(value); }
apply((v) => v + 1, z === undefined ? 1 : 0)`;

const STRICT_ERRORS = {
  /** `{ x: null }` is `{ x: null }` under strictNullChecks: `.z` of null is `never`'s. */
  property: 2339,
  /** Parameter implicitly has an 'any' type (noImplicitAny). */
  implicitAny: 7006,
};

async function kernelIn(t: TestContext, files: Record<string, string>): Promise<{ kernel: KernelClient; dir: string }> {
  const folder = makeFolder(files);
  t.after(() => folder.remove());
  return { kernel: await freshKernel(t, { cwd: folder.dir }), dir: folder.dir };
}

async function run(kernel: KernelClient, code: string): Promise<Exchange> {
  return kernel.execute(code, {}, { timeoutMs: 60_000 });
}

function assertRan(exchange: Exchange, expected: string): void {
  assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
  assert.equal(resultText(exchange), expected);
}

function assertStrictErrors(exchange: Exchange): void {
  const reply = executeReply(exchange);
  assert.equal(reply.status, 'error', `the cell ran: ${JSON.stringify(exchange.reply.content)}`);
  if (reply.status !== 'error') return;
  const codes = new Set(assertTsError(reply).map((problem) => problem.code));
  assert.ok(codes.has(STRICT_ERRORS.property), `no TS2339 on obj?.x?.z: ${reply.traceback.join('\n')}`);
  assert.ok(codes.has(STRICT_ERRORS.implicitAny), `no TS7006 on the untyped parameters: ${reply.traceback.join('\n')}`);
}

async function describeOptions(kernel: KernelClient): Promise<string> {
  const exchange = await run(kernel, '%typecheck');
  assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
  return streamText(exchange, 'stdout');
}

describe("the user's tsconfig.json sets the type checker's options", () => {
  test('without a tsconfig.json the defaults are non-strict: the tslab-style cell runs, and %typecheck says so', async (t) => {
    const { kernel } = await kernelIn(t, {});
    const first = await run(kernel, TSLAB_STYLE);
    assertRan(first, '2');
    assert.equal(streamText(first, 'stderr'), '', 'no notice without a config file');
    const described = await describeOptions(kernel);
    assert.match(described, /^options from: defaults \(no tsconfig\.json/m);
    assert.match(described, /^strict: off$/m);
  });

  test('a tsconfig.json with strict: true beside the notebook makes the same cell an error', async (t) => {
    const { kernel, dir } = await kernelIn(t, { 'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true } }) });
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
    const described = await describeOptions(kernel);
    assert.ok(described.includes(`options from: ${path.join(dir, 'tsconfig.json')}\n`), described);
    assert.match(described, /^strict: on$/m);
  });

  test('`extends` is followed, through comments and trailing commas as tsconfig files have them', async (t) => {
    const { kernel } = await kernelIn(t, {
      'configs/base.json': JSON.stringify({ compilerOptions: { strict: true } }),
      // Comments and a trailing comma, as tsconfig files have them.
      'tsconfig.json': '{\n  // shared settings\n  "extends": "./configs/base.json",\n  "compilerOptions": { "target": "es2020", },\n}\n',
    });
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
    assert.match(await describeOptions(kernel), /^target: es2020$/m);
  });

  test('`paths` resolve imports the way the tsconfig.json maps them', async (t) => {
    const { kernel } = await kernelIn(t, {
      'tsconfig.json': JSON.stringify({ compilerOptions: { paths: { '@shapes/*': ['./src/shapes/*'] } } }),
      'src/shapes/point.ts': 'export interface Point { x: number; y: number }\n',
    });
    // A type-only import: the checker resolves it through `paths`; nothing is loaded at run time.
    const first = await run(kernel, "import type { Point } from '@shapes/point';\nconst p: Point = { x: 1, y: 2 };\np.x + p.y");
    assertRan(first, '3');
    // The runtime resolves value imports as Node does: the first cell says the aliases are the checker's only.
    assert.match(streamText(first, 'stderr'), /paths \(@shapes\/\*\) are for type checking only/);
    const wrong = executeReply(await run(kernel, "import type { Point } from '@shapes/point';\nconst q: Point = { x: 1 };\nq"));
    assert.equal(wrong.status, 'error', 'a Point without y must not check: the import resolved to something else');
    if (wrong.status === 'error') assert.deepEqual(assertTsError(wrong).map((problem) => problem.code), [2741]);
  });

  test('a nested folder finds the tsconfig.json above it', async (t) => {
    const folder = makeFolder({ 'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true } }), 'notebooks/analysis/.keep': '' });
    t.after(() => folder.remove());
    const kernel = await freshKernel(t, { cwd: path.join(folder.dir, 'notebooks', 'analysis') });
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
  });

  test('a broken tsconfig.json: one clear warning at the first cell, and the defaults', async (t) => {
    const { kernel, dir } = await kernelIn(t, { 'tsconfig.json': '{ "compilerOptions": { "strict": true, ' });
    const first = await run(kernel, TSLAB_STYLE);
    assertRan(first, '2');
    const warning = streamText(first, 'stderr');
    assert.equal(warning.split('\n').filter(Boolean).length, 1, `one line: ${JSON.stringify(warning)}`);
    assert.ok(warning.startsWith(`warning: ${path.join(dir, 'tsconfig.json')} could not be used (`), warning);
    // Where to look: the file ends after the comma on line 1, column 40.
    assert.match(warning, /could not be used \(tsconfig\.json line 1, column 40: /, warning);
    assert.match(warning, /type checking uses the defaults/);
    assert.equal(streamText(await run(kernel, '1 + 1'), 'stderr'), '', 'the warning is given once');
    assert.match(await describeOptions(kernel), /^options from: defaults \(the config file could not be used\)$/m);
  });

  test('a broken tsconfig.json and `%typecheck` as the first cell: the warning once, in the options it lists', async (t) => {
    const { kernel } = await kernelIn(t, { 'tsconfig.json': '{ "compilerOptions": { "strict": true, ' });
    const first = await run(kernel, '%typecheck');
    assert.equal(executeReply(first).status, 'ok', JSON.stringify(first.reply.content));
    const shown = `${streamText(first, 'stdout')}${streamText(first, 'stderr')}`;
    assert.equal(shown.match(/could not be used \(/g)?.length, 1, `the warning once: ${JSON.stringify(shown)}`);
    assert.match(shown, /^options from: defaults \(the config file could not be used\)$/m);
    // Said at the first cell the user saw: not again at the next.
    assert.equal(streamText(await run(kernel, '1 + 1'), 'stderr'), '');
  });

  test('options a notebook cannot use (outDir, noEmit, module commonjs) are ignored with one line saying so', async (t) => {
    const { kernel, dir } = await kernelIn(t, {
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, outDir: 'dist', noEmit: true, module: 'commonjs' } }),
    });
    const first = await run(kernel, 'const answer: number = 42;\nanswer');
    assertRan(first, '42');
    const notice = streamText(first, 'stderr');
    assert.equal(notice.split('\n').filter(Boolean).length, 1, `one line: ${JSON.stringify(notice)}`);
    assert.ok(notice.startsWith(`${path.join(dir, 'tsconfig.json')}: ignored in a notebook: `), notice);
    assert.match(notice, /outDir, noEmit/);
    assert.match(notice, /module commonjs/);
    // The rest of the file still holds.
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
  });

  test('`%typecheck strict` and `%typecheck loose` flip the same cell; completion follows', async (t) => {
    const { kernel } = await kernelIn(t, {});
    const strict = await run(kernel, '%typecheck strict');
    assert.match(streamText(strict, 'stdout'), /strict family of checks is on/);
    assert.doesNotMatch(streamText(strict, 'stdout'), /still off/);
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
    assert.match(await describeOptions(kernel), /^options from: defaults .*\(strictness set by %typecheck strict\)$/m);
    await run(kernel, '%typecheck loose');
    assertRan(await run(kernel, TSLAB_STYLE), '2');
    assert.match(await describeOptions(kernel), /^strict: off$/m);
    // Inspection asks the same checker: under loose options `{ x: null }` holds an `any`.
    const inspected = await kernel.request('shell', 'inspect_request', { code: 'obj', cursor_pos: 3, detail_level: 0 }, { timeoutMs: 30_000 });
    const data = inspected.reply.content['data'] as Record<string, string> | undefined;
    assert.match(data?.['text/plain'] ?? '', /x: any/, JSON.stringify(inspected.reply.content));
    // Strictness does not turn checking back on, and says so rather than let the user believe it.
    await run(kernel, '%typecheck off');
    const afterOff = streamText(await run(kernel, '%typecheck strict'), 'stdout');
    assert.match(afterOff, /type checking itself is still off: %typecheck on turns it back on/);
    assertRan(await run(kernel, TSLAB_STYLE), '2');
  });

  test('a tsconfig.json created, edited (through a file it extends) or removed mid-session counts from the next cell, and says so once', async (t) => {
    const { kernel, dir } = await kernelIn(t, { 'configs/base.json': JSON.stringify({ compilerOptions: { strict: true } }) });
    const tsconfig = path.join(dir, 'tsconfig.json');
    assertRan(await run(kernel, TSLAB_STYLE), '2');
    writeFileSync(tsconfig, JSON.stringify({ extends: './configs/base.json' }));
    const created = await run(kernel, TSLAB_STYLE);
    assertStrictErrors(created);
    assert.match(streamText(created, 'stderr'), new RegExp(`changed: type checking uses ${tsconfig.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} from this cell on`));
    assert.equal(streamText(await run(kernel, '1'), 'stderr'), '', 'the change is said once');
    assert.ok((await describeOptions(kernel)).includes(`options from: ${tsconfig}\n`));
    // Saved again unchanged (an editor's save, a touch), or with only its spacing and comments changed: nothing to say.
    writeFileSync(tsconfig, `// the notebook's options\n${JSON.stringify({ extends: './configs/base.json' }, null, 2)}\n`);
    utimesSync(tsconfig, new Date(), new Date(Date.now() + 5000));
    assert.equal(streamText(await run(kernel, '1'), 'stderr'), '', 'a save without a change is no change');
    // Broken mid-session: the warning alone says it, once.
    writeFileSync(tsconfig, '{ "extends": ');
    const broken = streamText(await run(kernel, TSLAB_STYLE), 'stderr');
    assert.equal(broken.match(/type checking uses the defaults/g)?.length, 1, `said once: ${JSON.stringify(broken)}`);
    assert.ok(broken.startsWith(`warning: ${tsconfig} could not be used (`), broken);
    writeFileSync(tsconfig, JSON.stringify({ extends: './configs/base.json' }));
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
    // The file it extends is edited: strict off again.
    writeFileSync(path.join(dir, 'configs/base.json'), JSON.stringify({ compilerOptions: { strict: false } }));
    assertRan(await run(kernel, TSLAB_STYLE), '2');
    writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { strict: true } }));
    assertStrictErrors(await run(kernel, TSLAB_STYLE));
    // `%typecheck loose` outlasts an edit: it is the notebook's word.
    await run(kernel, '%typecheck loose');
    writeFileSync(tsconfig, JSON.stringify({ compilerOptions: { strict: true, noImplicitAny: true } }));
    const overridden = await run(kernel, TSLAB_STYLE);
    assertRan(overridden, '2');
    assert.match(streamText(overridden, 'stderr'), /from this cell on; %typecheck loose still sets the strict options/);
    assert.match(await describeOptions(kernel), /\(strictness set by %typecheck loose\)$/m);
    await run(kernel, '%typecheck strict');
    rmSync(tsconfig);
    const removed = await run(kernel, TSLAB_STYLE);
    assertStrictErrors(removed);
    assert.match(streamText(removed, 'stderr'), /no tsconfig\.json or jsconfig\.json remains .*: type checking uses the defaults from this cell on/);
    assert.match(await describeOptions(kernel), /^options from: defaults \(no tsconfig\.json.*\(strictness set by %typecheck strict\)$/m);
  });

  test('experimentalDecorators in tsconfig.json: cells and local modules run legacy decorators as they are checked; without it, TC39 decorators', async (t) => {
    const legacy = [
      "function logged(target: object, key: string, descriptor: PropertyDescriptor) { const f = descriptor.value as () => number; descriptor.value = function (this: unknown) { return 'logged:' + f.call(this); }; }",
      'class Decorated { @logged m() { return 1; } }',
      'new Decorated().m()',
    ].join('\n');
    const module = `${legacy.split('\n').slice(0, 2).map((line) => `export ${line}`).join('\n')}\n`;
    const { kernel } = await kernelIn(t, { 'tsconfig.json': JSON.stringify({ compilerOptions: { experimentalDecorators: true } }), 'decorated.ts': module });
    assertRan(await run(kernel, legacy), "'logged:1'");
    assertRan(await run(kernel, "import { Decorated as FromModule } from './decorated';\nnew FromModule().m()"), "'logged:1'");
    const { kernel: standard } = await kernelIn(t, {});
    const tc39 = [
      "function traced(method: (this: unknown) => number, context: ClassMethodDecoratorContext) { return function (this: unknown) { return context.name === 'm' ? method.call(this) * 10 : -1; }; }",
      'class Traced { @traced m() { return 2; } }',
      'new Traced().m()',
    ].join('\n');
    assertRan(await run(standard, tc39), '20');
  });
});
