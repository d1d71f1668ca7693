// Completion and inspection know the kernel's own words: magics complete as magics (from what
// %lsmagic lists), device names complete where a device is named (from what %devices lists), and
// tfjs's ops inspect with the documentation their declaration files carry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { assertBusyThenIdle, codePoints } from '../support/exchange';
import { printed, parseTextTable, useDeviceKernel } from '../support/devices';
import { okContent, type OkContentOf } from '../support/message-schema';

/** `%name` and `%%name` of each usage line %lsmagic prints (its help lines are left out). */
function magicsListed(lsmagic: string): { line: string[]; cell: string[] } {
  const usages = lsmagic.split('\n').filter((text) => /^ {2}%/.test(text));
  const tokens = usages.flatMap((usage) => [...usage.matchAll(/(?:^|[\s,/|])(%%?[a-z_]+)/g)].map((match) => match[1]!));
  return { line: tokens.filter((token) => !token.startsWith('%%')), cell: tokens.filter((token) => token.startsWith('%%')) };
}

/** The first paragraph of a JSDoc block above `declaration` in a .d.ts file. */
function jsDocSummary(file: string, declaration: string): string {
  const text = readFileSync(file, 'utf8');
  const block = text.slice(0, text.indexOf(declaration)).split('/**').at(-1) ?? '';
  const lines = block.split('\n').map((line) => line.replace(/^\s*\*\s?/, '').trim());
  return lines.slice(lines.findIndex((line) => line !== '')).join('\n').split('\n\n')[0]!.trim();
}

describe('completion of the kernel\'s words', () => {
  const kernel = useDeviceKernel();
  let magics: { line: string[]; cell: string[] };
  let deviceNames: string[];
  let usages: string[];

  before(async () => {
    const lsmagic = await printed(kernel(), '%lsmagic');
    magics = magicsListed(lsmagic);
    usages = lsmagic.split('\n').filter((text) => /^ {2}%/.test(text));
    const table = parseTextTable(await printed(kernel(), '%devices'));
    assert.ok(table !== undefined, 'the %devices table');
    deviceNames = table.rows.map((row) => row.cells[0]!.replace(/^\*\s*/, ''));
    assert.ok(deviceNames.includes('cpu'), JSON.stringify(deviceNames));
  });

  const complete = async (before: string, after = ''): Promise<OkContentOf<'complete_reply'>> => {
    const exchange = await kernel().request('shell', 'complete_request',
      { code: before + after, cursor_pos: codePoints(before).length }, { timeoutMs: 60_000 });
    assertBusyThenIdle(exchange);
    return okContent(exchange.reply, 'complete_reply');
  };

  test('`%dev` offers the line magics %lsmagic lists that start so (%device, %devices, %device_policy), replacing `%dev`', async () => {
    const reply = await complete('%dev');
    const expected = magics.line.filter((name) => name.startsWith('%dev'));
    assert.ok(expected.includes('%device') && expected.includes('%devices'), JSON.stringify(magics));
    assert.deepEqual([...reply.matches].sort(), [...new Set(expected)].sort());
    assert.deepEqual([reply.cursor_start, reply.cursor_end], [0, 4]);
  });

  test('`%%ti` on the first line offers the cell magics %%time and %%timeit', async () => {
    const reply = await complete('%%ti', '\nconst t = 1;');
    assert.deepEqual([...reply.matches].sort(), magics.cell.filter((name) => name.startsWith('%%ti')).sort());
    assert.ok(reply.matches.includes('%%time'), JSON.stringify(reply.matches));
    assert.deepEqual([reply.cursor_start, reply.cursor_end], [0, 4]);
  });

  test('the comment form `//%dev` on a later line completes too, replacing only `%dev`', async () => {
    const before = 'const a = 1;\n  //%dev';
    const reply = await complete(before);
    assert.ok(reply.matches.includes('%device') && reply.matches.includes('%devices'), JSON.stringify(reply.matches));
    assert.deepEqual([reply.cursor_start, reply.cursor_end], [codePoints(before).length - 4, codePoints(before).length]);
  });

  test('`%device ` offers every device %devices lists, and auto', async () => {
    const reply = await complete('%device ');
    assert.deepEqual([...reply.matches].sort(), [...deviceNames, 'auto'].sort());
    assert.equal(reply.cursor_start, 8);
  });

  test('`%%device ` offers every device %devices lists', async () => {
    const reply = await complete('%%device ', '\n1');
    assert.deepEqual([...reply.matches].sort(), [...deviceNames].sort());
  });

  test("inside `.to('` the device names are offered, and `.to('c` narrows them, replacing what was typed", async () => {
    const all = await complete("const t = tf.ones([2]);\nawait t.to('", "')");
    assert.deepEqual([...all.matches].sort(), [...deviceNames].sort());
    const before = "const t = tf.ones([2]);\nawait t.to('c";
    const narrowed = await complete(before, "')");
    assert.deepEqual(narrowed.matches, deviceNames.filter((name) => name.startsWith('c')));
    assert.equal(narrowed.cursor_start, codePoints(before).length - 1);
  });

  test("inside `withDevice('` and `device(\"` the device names are offered", async () => {
    assert.deepEqual([...(await complete("await withDevice('")).matches].sort(), [...deviceNames].sort());
    assert.deepEqual([...(await complete('device("')).matches].sort(), [...deviceNames].sort());
  });

  test('`%device_policy s` offers strict', async () => {
    assert.deepEqual((await complete('%device_policy s')).matches, ['strict']);
  });

  // Each magic's argument words are the ones its usage line lists (`%report [off|compact|full]`).
  for (const [magic, typed] of [['typecheck', ''], ['report', ''], ['transfers', ''], ['profile', ''], ['placement', ''], ['gc', ''], ['typecheck', 'o']] as const) {
    test(`\`%${magic} ${typed}\` offers the words %lsmagic's usage of %${magic} lists${typed ? ` that start with ${typed}` : ''}, not TypeScript names`, async () => {
      const usage = usages.find((line) => line.trimStart().startsWith(`%${magic} `)) ?? '';
      const words = /\[([\w|]+)/.exec(usage)?.[1]?.split('|') ?? [];
      assert.ok(words.length > 0, `the usage line of %${magic}: ${usage}`);
      const reply = await complete(`%${magic} ${typed}`);
      assert.deepEqual([...reply.matches].sort(), words.filter((word) => word.startsWith(typed)).sort());
      assert.equal(reply.cursor_start, magic.length + 2);
    });
  }

  test('a `%` inside code (a remainder) is not taken for a magic', async () => {
    const reply = await complete('const rest = 7 %Ma');
    assert.ok(!reply.matches.some((match) => match.startsWith('%')), JSON.stringify(reply.matches));
  });
});

describe('inspection of magics', () => {
  const kernel = useDeviceKernel();

  for (const [code, name] of [['%device', 'device'], ['%%time', 'time'], ['%timeit', 'timeit'], ['//%device', 'device']] as const) {
    test(`inspecting \`${code}\` shows what \`%${name}?\` prints`, async () => {
      const help = await printed(kernel(), `%${name}?`);
      assert.match(help, new RegExp(`%${name}`), help);
      const exchange = await kernel().request('shell', 'inspect_request',
        { code: `${code} `, cursor_pos: codePoints(code).length, detail_level: 0 }, { timeoutMs: 60_000 });
      assertBusyThenIdle(exchange);
      const reply = okContent(exchange.reply, 'inspect_reply');
      assert.equal(reply.found, true);
      assert.equal(reply.data['text/plain'], help);
    });
  }
});

describe('inspection of tfjs ops', () => {
  const kernel = useDeviceKernel();

  const inspect = async (code: string, detailLevel: 0 | 1): Promise<OkContentOf<'inspect_reply'>> => {
    const exchange = await kernel().request('shell', 'inspect_request',
      { code, cursor_pos: codePoints(code).length, detail_level: detailLevel }, { timeoutMs: 60_000 });
    assertBusyThenIdle(exchange);
    return okContent(exchange.reply, 'inspect_reply');
  };

  test('`tf.matMul` shows the documentation of its declaration in tfjs-core (declared as `typeof matMul_`)', async () => {
    const file = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'ops', 'mat_mul.d.ts');
    const summary = jsDocSummary(file, 'declare function matMul_');
    assert.match(summary, /dot product/, `the summary read from ${file}`);
    const reply = await inspect('tf.matMul', 0);
    assert.equal(reply.found, true);
    const plain = String(reply.data['text/plain']);
    assert.ok(plain.startsWith('const matMul:'), plain);
    assert.ok(plain.includes(summary), `inspection should include ${JSON.stringify(summary)}:\n${plain}`);
    assert.ok(String(reply.data['text/markdown']).includes(summary));
  });

  test('with detail_level 1, `tf.matMul` shows its @param tags and not tfjs\'s @doc site tag', async () => {
    const plain = String((await inspect('tf.matMul', 1)).data['text/plain']);
    assert.match(plain, /@param a First matrix in dot product operation\./, plain);
    assert.ok(!plain.includes('@doc'), plain);
  });
});
