// Tab completion, Shift-Tab inspection and "is this cell finished?" answered by the TypeScript
// language service, with what earlier cells declared and imported.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { assertBusyThenIdle, codePoints, evaluate } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { contentOf, okContent, OkContentOf } from '../support/message-schema';

interface TypedMatch { start: number; end: number; text: string; type: string }

describe('TypeScript introspection', () => {
  const kernel = useKernel();

  before(async () => {
    await evaluate(kernel(), [
      '/** Adds one. */ function addOne(n: number): number { return n + 1 }',
      '/**',
      ' * Scales a number.',
      ' * @param n the number to scale',
      ' * @param factor how much bigger',
      ' * @returns the scaled number',
      ' */',
      'function scaleBy(n: number, factor: number): number { return n * factor }',
      'const earlierCellValue = 5;',
      'class EarlierWidget { size = 1 }',
      "import { readFileSync as readFromDisk } from 'node:fs';",
    ].join('\n'));
  });

  /** complete_request with the cursor at the end of `before` (code points), `after` following it. */
  const complete = async (before: string, after = ''): Promise<OkContentOf<'complete_reply'>> => {
    const exchange = await kernel().request('shell', 'complete_request',
      { code: before + after, cursor_pos: codePoints(before).length }, { timeoutMs: 30_000 });
    assertBusyThenIdle(exchange);
    return okContent(exchange.reply, 'complete_reply');
  };

  const typedMatches = (reply: OkContentOf<'complete_reply'>): TypedMatch[] => {
    const typed = reply.metadata['_jupyter_types_experimental'];
    assert.ok(Array.isArray(typed), `metadata._jupyter_types_experimental missing: ${JSON.stringify(reply.metadata)}`);
    return typed as TypedMatch[];
  };

  const typeOf = (reply: OkContentOf<'complete_reply'>, text: string): string | undefined =>
    typedMatches(reply).find((m) => m.text === text)?.type;

  describe('completion', () => {
    test('`[1,2].ma` offers map, replacing `ma`, typed function', async () => {
      const reply = await complete('[1,2].ma');
      assert.ok(reply.matches.includes('map'), JSON.stringify(reply.matches));
      assert.deepEqual([reply.cursor_start, reply.cursor_end], [6, 8]);
      assert.equal(typeOf(reply, 'map'), 'function');
    });

    test('`Math.fl` offers floor', async () => {
      const reply = await complete('Math.fl');
      assert.ok(reply.matches.includes('floor'), JSON.stringify(reply.matches));
      assert.deepEqual([reply.cursor_start, reply.cursor_end], [5, 7]);
    });

    test('names declared in an earlier cell are offered', async () => {
      assert.ok((await complete('earlierCell')).matches.includes('earlierCellValue'));
      assert.ok((await complete('new EarlierWid')).matches.includes('EarlierWidget'));
      assert.ok((await complete('addO')).matches.includes('addOne'));
    });

    test('members of an earlier cell\'s class instance are offered, typed property', async () => {
      const reply = await complete('new EarlierWidget().si');
      assert.ok(reply.matches.includes('size'), JSON.stringify(reply.matches));
      assert.equal(typeOf(reply, 'size'), 'property');
    });

    test('names imported in an earlier cell are offered', async () => {
      assert.ok((await complete('readFromD')).matches.includes('readFromDisk'));
    });

    test('metadata lists {start, end, text, type} for every match, start/end equal to the cursors', async () => {
      const reply = await complete('cons');
      const typed = typedMatches(reply);
      assert.deepEqual(typed.map((m) => m.text), reply.matches, 'one typed entry per match, same order');
      for (const entry of typed) {
        assert.equal(entry.start, reply.cursor_start);
        assert.equal(entry.end, reply.cursor_end);
        assert.equal(typeof entry.type, 'string');
      }
      assert.equal(typeOf(reply, 'const'), 'keyword');
      assert.equal(typeOf(reply, 'console'), 'instance');
    });

    test('a class and a function declared in the same cell are typed class and function', async () => {
      const reply = await complete('class LocalShape {}\nfunction localShapeArea() { return 1 }\nlocalSha');
      assert.equal(typeOf(reply, 'localShapeArea'), 'function');
      assert.equal(typeOf(await complete('class LocalShape {}\nLocalSha'), 'LocalShape'), 'class');
    });

    test('a function and a class from an earlier cell are typed function and class, as in their own cell', async () => {
      const types = {
        addOne: typeOf(await complete('addO'), 'addOne'),
        EarlierWidget: typeOf(await complete('EarlierWid'), 'EarlierWidget'),
      };
      assert.deepEqual(types, { addOne: 'function', EarlierWidget: 'class' });
    });

    for (const [where, before, after] of [
      ['at the end of a cell', 'const face = "😀😀";\n[1,2].ma', ''],
      ['in the middle of a line', '"😀"; [1,2].ma', '; "𝒳𝒳"\n1'],
    ] as const) {
      test(`after astral-plane characters ${where}, cursor_start/cursor_end count code points`, async () => {
        const cursor = codePoints(before).length;
        const reply = await complete(before, after);
        assert.ok(reply.matches.includes('map'), JSON.stringify(reply.matches));
        assert.deepEqual([reply.cursor_start, reply.cursor_end], [cursor - 2, cursor]);
        const chars = codePoints(before + after);
        const applied = [...chars.slice(0, reply.cursor_start), 'map', ...chars.slice(reply.cursor_end)].join('');
        assert.equal(applied, before.replace(/ma$/, 'map') + after);
        const entry = typedMatches(reply).find((m) => m.text === 'map');
        assert.deepEqual([entry?.start, entry?.end], [cursor - 2, cursor], 'metadata positions in code points too');
      });
    }
  });

  describe('inspection', () => {
    const inspect = async (code: string, detailLevel: 0 | 1, cursor = codePoints(code).length) => {
      const exchange = await kernel().request('shell', 'inspect_request',
        { code, cursor_pos: cursor, detail_level: detailLevel }, { timeoutMs: 30_000 });
      assertBusyThenIdle(exchange);
      return okContent(exchange.reply, 'inspect_reply');
    };

    const texts = (reply: OkContentOf<'inspect_reply'>): { plain: string; markdown: string } => {
      const plain = reply.data['text/plain'];
      const markdown = reply.data['text/markdown'];
      assert.equal(typeof plain, 'string', `text/plain missing: ${JSON.stringify(reply.data)}`);
      assert.equal(typeof markdown, 'string', `text/markdown missing: ${JSON.stringify(reply.data)}`);
      return { plain: plain as string, markdown: markdown as string };
    };

    test("inspecting `addOne` from an earlier cell shows its signature and its JSDoc 'Adds one.'", async () => {
      const reply = await inspect('addOne', 0);
      assert.equal(reply.found, true);
      for (const [mime, text] of Object.entries(texts(reply))) {
        assert.ok(text.includes('function addOne(n: number): number'), `${mime}: ${text}`);
        assert.ok(text.includes('Adds one.'), `${mime} lacks the JSDoc: ${text}`);
      }
    });

    test('detail level 0 leaves out JSDoc tags, detail level 1 adds them (@param)', async () => {
      const brief = texts(await inspect('scaleBy', 0));
      const full = texts(await inspect('scaleBy', 1));
      for (const text of [brief.plain, full.plain]) {
        assert.ok(text.includes('function scaleBy(n: number, factor: number): number'), text);
        assert.ok(text.includes('Scales a number.'), `JSDoc missing: ${text}`);
      }
      assert.ok(!brief.plain.includes('@param'), `detail 0 shows tags: ${brief.plain}`);
      assert.match(full.plain, /@param n the number to scale/);
      assert.match(full.markdown, /@param factor how much bigger/);
    });

    test('inspecting a function declared with JSDoc in the same cell shows its doc', async () => {
      const code = '/** Doubles it.\n * @param n a number\n */\nfunction dbl(n: number) { return 2 * n }\ndbl';
      const brief = texts(await inspect(code, 0));
      assert.ok(brief.plain.includes('function dbl(n: number): number'), brief.plain);
      assert.ok(brief.plain.includes('Doubles it.'), brief.plain);
      assert.match(texts(await inspect(code, 1)).plain, /@param n a number/);
    });

    test('the cursor inside a name after astral-plane characters finds that name', async () => {
      const code = '"😀😀"; Math.max(1, 2)';
      const reply = await inspect(code, 0, codePoints('"😀😀"; Math.ma').length);
      assert.equal(reply.found, true);
      assert.match(texts(reply).plain, /max\(\.\.\.values: number\[\]\): number/);
    });

    test('inspecting an unknown name answers found false', async () => {
      const reply = await inspect('noSuchNameAnywhereAtAll', 0);
      assert.equal(reply.found, false);
    });
  });

  describe('is the cell complete?', () => {
    const isComplete = async (code: string) => {
      const exchange = await kernel().request('shell', 'is_complete_request', { code });
      assertBusyThenIdle(exchange);
      return contentOf(exchange.reply, 'is_complete_reply');
    };

    test('`const total: number = 1 + 1` is complete', async () => {
      assert.deepEqual(await isComplete('const total: number = 1 + 1'), { status: 'complete' });
    });

    test("`function f() {` is incomplete with indent '  '", async () => {
      assert.deepEqual(await isComplete('function f() {'), { status: 'incomplete', indent: '  ' });
    });

    test("`interface A {` is incomplete with indent '  '", async () => {
      assert.deepEqual(await isComplete('interface A {'), { status: 'incomplete', indent: '  ' });
    });

    test('`1 +* )` is invalid', async () => {
      assert.deepEqual(await isComplete('1 +* )'), { status: 'invalid' });
    });
  });
});
