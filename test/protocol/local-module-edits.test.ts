// A notebook's own TypeScript modules edited on disk mid-session: the next cell is checked against
// the file as it is now and runs it as it is now, through modules that import it too; names earlier
// cells imported follow the edit unless a cell has given them another value; a broken edit is
// told, and the old version stays in use; only the edited module and those importing it load
// again; an edit that hangs as it loads can be interrupted.
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { executeReply, evaluate, failure, resultText, streamText } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { okContent } from '../support/message-schema';
import { sleep } from '../support/time';
import { assertTsError, makeFolder } from '../support/typescript';

describe('local modules edited on disk while the kernel runs', () => {
  const folder = makeFolder({
    'units.ts': 'export const scale: number = 2;\n',
    'geometry.ts': "import { scale } from './units';\nexport function area(side: number): number { return side * side * scale; }\n",
    'store.ts': 'export const items: number[] = [];\nexport function add(n: number): number { return items.push(n); }\n',
    'format.ts': "export function show(xs: number[]): string { return xs.join(','); }\n",
    'esm.mts': "export const word: string = 'one';\nexport const where: string = import.meta.url;\n",
    'parts.ts': 'export const kept = 1;\nexport const dropped = 2;\n',
    'spin.ts': 'export const turns: number = 1;\n',
    'names.ts': "export function label(n: number): string { return 'n=' + n; }\nexport function tag(): string { return 'old tag'; }\n",
    'helper.ts': 'export function helped(): number { return 40; }\n',
    'uses-js-name.ts': "import { helped } from './helper.js';\nexport const viaJsName: number = helped() + 1;\n",
    'uses-tsgpu.ts': "import { tf } from 'tsgpu';\nexport function total(): number { return tf.tensor([1, 2, 3]).sum().arraySync() as number; }\n",
    'quiet.ts': 'export const quietValue: number = 1;\n',
    'inner.ts': '// a comment\ninterface Thing { n: number }\n\nexport function checked(t: Thing): number {\n  if (t.n < 0) throw new RangeError(`negative: ${t.n}`);\n  return t.n * 2;\n}\n',
    'outer.ts': "import { checked } from './inner';\n\ntype Pair = [number, number];\nexport function both(p: Pair): number {\n  return checked({ n: p[0] }) + checked({ n: p[1] });\n}\n",
  });
  after(() => folder.remove());
  const kernel = useKernel({ cwd: folder.dir });
  let edits = 0;
  /** Rewrites a file with a modification time of its own, as an editor's save gives it. */
  const edit = (name: string, text: string): void => {
    const file = path.join(folder.dir, name);
    writeFileSync(file, text);
    const when = new Date(Date.now() + 1000 * ++edits);
    utimesSync(file, when, when);
  };

  test('an edit to a module that an imported module imports is seen by the next cell, without importing again, and told once', async () => {
    assert.equal(await evaluate(kernel(), "import { area } from './geometry';\narea(3)"), '18');
    edit('units.ts', 'export const scale: number = 10;\n');
    const exchange = await kernel().execute('area(3)');
    assert.equal(executeReply(exchange).status, 'ok');
    assert.match(streamText(exchange, 'stderr'), /units\.ts changed on disk: .*area \(imported by earlier cells\) now refers to the new version/);
    assert.equal(await evaluate(kernel(), 'area(3)'), '90');
    const again = await kernel().execute('area(1)');
    assert.equal(streamText(again, 'stderr'), '', 'the edit is told once');
  });

  test('a changed signature checks against the file as it is now, in later cells and when imported again', async () => {
    assert.equal(await evaluate(kernel(), "import { label } from './names';\nlabel(1)"), "'n=1'");
    edit('names.ts', "export function label(s: string): string { return 's=' + s; }\nexport function tag(): string { return 'new tag'; }\nexport const added = 7;\n");
    assert.equal(await evaluate(kernel(), "label('x')"), "'s=x'");
    const error = await failure(kernel(), 'label(2)');
    assert.equal(assertTsError(error)[0]?.code, 2345, error.evalue);
    assert.equal(await evaluate(kernel(), "import { added } from './names';\nadded"), '7');
  });

  test('a name a cell has given another value since keeps it; a broken edit keeps the old version and says so', async () => {
    assert.equal(await evaluate(kernel(), "import { tag } from './names';\ntag()"), "'new tag'");
    await evaluate(kernel(), "const tag = () => 'mine';");
    edit('names.ts', "export function label(s: string): string { return 's=' + s; }\nexport function tag(): string { return 'newest tag'; }\nexport const added = 8;\n");
    assert.equal(await evaluate(kernel(), 'tag()'), "'mine'");
    assert.equal(await evaluate(kernel(), 'added'), '8');
    edit('names.ts', 'export const added = ;\n');
    const exchange = await kernel().execute('added');
    assert.equal(executeReply(exchange).status, 'ok');
    assert.match(streamText(exchange, 'stderr'), /Could not load names\.ts again \(.+\): the names earlier cells imported from it keep the version loaded before/);
    assert.equal(await evaluate(kernel(), 'added'), '8');
  });

  test('an edit reloads the edited module and those importing it, not the others: what a cell put in another module stays', async () => {
    assert.equal(await evaluate(kernel(), "import { items, add } from './store';\nimport { show } from './format';\nadd(1); add(2);\nshow(items)"), "'1,2'");
    edit('format.ts', "export function show(xs: number[]): string { return xs.join(' | '); }\n");
    const exchange = await kernel().execute('show(items)');
    assert.equal(executeReply(exchange).status, 'ok');
    assert.equal(resultText(exchange), "'1 | 2'", 'the new show() over the items cells added before the edit');
    assert.equal(await evaluate(kernel(), 'add(3)'), '3', 'the store a cell filled is the one add() still fills');
    assert.match(streamText(exchange, 'stderr'), /format\.ts changed on disk: .*show \(imported by earlier cells\) now refers to the new version/);
    assert.doesNotMatch(streamText(exchange, 'stderr'), /items|add/, 'store.ts was not edited and imports no edited module');
  });

  test('an edited .mts module runs as it is now, as the checker sees it; its import.meta names its file', async () => {
    assert.equal(await evaluate(kernel(), "import { word, where } from './esm.mts';\n[word, where === require('node:url').pathToFileURL(require('node:path').resolve('esm.mts')).href]"), "[ 'one', true ]");
    edit('esm.mts', 'export const word: number = 42;\nexport const where: string = import.meta.url;\n');
    assert.equal(await evaluate(kernel(), 'word.toFixed(1)'), "'42.0'");
  });

  test('a name the edited module no longer exports keeps its old value, and the cell says so', async () => {
    assert.equal(await evaluate(kernel(), "import { kept, dropped } from './parts';\nkept + dropped"), '3');
    edit('parts.ts', 'export const kept = 10;\n');
    const exchange = await kernel().execute('[kept, dropped]');
    assert.equal(resultText(exchange), '[ 10, 2 ]');
    assert.match(streamText(exchange, 'stderr'), /parts\.ts no longer exports dropped: the old value stays, and the type checker no longer knows its type/);
  });

  // Last: on a kernel that cannot stop the reload, nothing after it would answer.
  test('an edit that loops as it loads again is stopped by an interrupt, and the file fixed loads at the next cell', async () => {
    assert.equal(await evaluate(kernel(), "import { turns } from './spin';\nturns"), '1');
    edit('spin.ts', 'export let turns: number = 0;\nfor (;;) turns++;\n');
    const running = kernel().startExecute('turns', {}, { timeoutMs: 30_000 });
    await running.iopubMessage('execute_input');
    await sleep(500);
    okContent((await kernel().request('control', 'interrupt_request', {}, { timeoutMs: 10_000 })).reply, 'interrupt_reply');
    const reply = executeReply(await running.done());
    assert.equal(reply.status === 'error' ? reply.ename : reply.status, 'Interrupted');
    edit('spin.ts', 'export const turns: number = 3;\n');
    assert.equal(await evaluate(kernel(), 'turns'), '3');
  });

  test('`./helper.js` names helper.ts, from a cell and from a module, as the checker resolves it; a module imports tsgpu as a cell does', async () => {
    assert.equal(await evaluate(kernel(), "import { helped } from './helper.js';\nhelped()"), '40');
    assert.equal(await evaluate(kernel(), "import { viaJsName } from './uses-js-name';\nviaJsName"), '41');
    assert.equal(await evaluate(kernel(), "import { total } from './uses-tsgpu';\ntotal()"), '6');
  });

  test('a silent request (a client\'s own) loads no edit: the next cell the user sees does, and says so', async () => {
    assert.equal(await evaluate(kernel(), "import { quietValue } from './quiet';\nquietValue"), '1');
    edit('quiet.ts', 'export const quietValue: number = 2;\n');
    const silent = await kernel().execute('quietValue', { silent: true });
    assert.equal(executeReply(silent).status, 'ok');
    const seen = await kernel().execute('quietValue');
    assert.equal(resultText(seen), '2');
    assert.match(streamText(seen, 'stderr'), /quiet\.ts changed on disk/);
  });

  test('an error thrown inside local modules shows their frames at their own lines (interfaces and types removed from the emitted code shift them)', async () => {
    assert.equal(await evaluate(kernel(), "import { both } from './outer';\nboth([1, 2])"), '6');
    const error = await failure(kernel(), 'both([3, -4])');
    assert.equal(error.ename, 'RangeError');
    const frames = error.traceback.filter((line) => /^\s+at /.test(line));
    assert.match(frames[0] ?? '', /at checked \(inner\.ts:5:\d+\)$/, error.traceback.join('\n'));
    assert.match(frames[1] ?? '', /at both \(outer\.ts:5:\d+\)$/, error.traceback.join('\n'));
    assert.match(frames[2] ?? '', /at <cell \d+>:1:1$/, error.traceback.join('\n'));
  });
});
