// Type checking across cells: a type error stops the cell before it runs and shows where it is.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cellError, evaluate, executeReply, failure, iopubOf, resultText, streams } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { assertQuoted, assertTsError } from '../support/typescript';

const NOT_NUMBER = "Type 'string' is not assignable to type 'number'.";

describe('TypeScript type checking', () => {
  const kernel = useKernel();

  test('a type error shows one TSError with position, message, the source line and a caret under the name',
    async () => {
      const code = "console.log('side effect');\nconst total: number = 'abc';";
      const exchange = await kernel().execute(code, {}, { timeoutMs: 30_000 });
      const error = cellError(exchange);
      const problems = assertTsError(error);
      assert.equal(error.evalue, `2:7 - error TS2322: ${NOT_NUMBER}`);
      assert.equal(problems.length, 1);
      assert.equal(error.traceback[0], error.evalue, 'the traceback starts with the problem');
      assertQuoted(error.traceback, 0, { line: 2, column: 7, source: "const total: number = 'abc';", width: 5 });
    });

  test('a cell with a type error does not run: no output, no global written, no declaration kept', async () => {
    const exchange = await kernel().execute([
      "console.log('should not print');",
      "(globalThis as any).typeErrorSideEffect = 'ran';",
      'const keptFromFailedCell = 1;',
      "const wrong: number = 'x';",
    ].join('\n'));
    assertTsError(cellError(exchange));
    assert.deepEqual(streams(exchange), [], 'the cell printed although it should not have run');
    assert.equal(await evaluate(kernel(), 'typeof (globalThis as any).typeErrorSideEffect'), "'undefined'");
    const unknown = await failure(kernel(), 'keptFromFailedCell');
    assert.equal(assertTsError(unknown)[0]?.code, 2304, `expected "Cannot find name": ${unknown.evalue}`);
  });

  test('a cell with a type error still takes the next execution count', async () => {
    const before = executeReply(await kernel().execute('1')).execution_count ?? NaN;
    const failed = await kernel().execute("const countMe: number = 'x'");
    assert.equal(executeReply(failed).execution_count, before + 1);
    assert.equal(iopubOf(failed, 'execute_input')[0]?.execution_count, before + 1);
    assert.equal(executeReply(await kernel().execute('2')).execution_count, before + 2);
  });

  test('two type errors: evalue names the first "(and 1 more)", the traceback quotes both', async () => {
    const error = await failure(kernel(), "const two1: number = 'a';\nconst two2: string = 5;");
    const problems = assertTsError(error);
    assert.equal(error.evalue, `1:7 - error TS2322: ${NOT_NUMBER} (and 1 more)`);
    assert.deepEqual(problems.map((p) => [p.line, p.column, p.code]), [[1, 7, 2322], [2, 7, 2322]]);
    assert.equal(problems[1]?.message, "Type 'number' is not assignable to type 'string'.");
    assertQuoted(error.traceback, problems[0]?.at ?? -1, { line: 1, column: 7, source: "const two1: number = 'a';", width: 4 });
    assertQuoted(error.traceback, problems[1]?.at ?? -1, { line: 2, column: 7, source: 'const two2: string = 5;', width: 4 });
  });

  test('a syntax error is a TSError of the same shape and the cell does not run', async () => {
    const exchange = await kernel().execute("console.log('syntax ran');\nconst half = 1 +");
    const error = cellError(exchange);
    const [problem] = assertTsError(error);
    assert.equal(problem?.code, 1109, error.evalue);
    assert.equal(problem?.line, 2);
    assertQuoted(error.traceback, problem?.at ?? -1, { line: 2, column: problem?.column ?? NaN, source: 'const half = 1 +' });
    assert.deepEqual(streams(exchange), []);
  });

  test('an interface declared in one cell types the values of the next cells', async () => {
    assert.equal((await kernel().execute('interface Point { x: number; y: number }')).reply.content['status'], 'ok');
    assert.equal(await evaluate(kernel(), 'const origin: Point = { x: 1, y: 2 };\norigin.x + origin.y'), '3');
    const error = await failure(kernel(), 'const half: Point = { x: 1 }');
    const [problem] = assertTsError(error);
    assert.equal(problem?.code, 2741, error.evalue);
    assert.match(problem?.message ?? '', /Property 'y' is missing/);
  });

  test('a type alias and an enum from an earlier cell are known later', async () => {
    await evaluate(kernel(), "type Shade = 'light' | 'dark';\nenum Level { Low = 1, High = 2 }");
    assert.equal(await evaluate(kernel(), "const shade: Shade = 'dark';\n`${shade} ${Level.High}`"), "'dark 2'");
    assert.equal(assertTsError(await failure(kernel(), "const grey: Shade = 'grey'"))[0]?.code, 2322);
  });

  test('assigning a string to a `let` declared as a number in an earlier cell is a type error and keeps the value',
    async () => {
      await evaluate(kernel(), 'let score = 10');
      const error = await failure(kernel(), "score = 'ten'");
      assertTsError(error);
      assert.equal(error.evalue, `1:1 - error TS2322: ${NOT_NUMBER}`);
      assertQuoted(error.traceback, 0, { line: 1, column: 1, source: "score = 'ten'", width: 5 });
      assert.equal(await evaluate(kernel(), 'score'), '10');
      assert.equal(await evaluate(kernel(), 'score = 11;\nscore'), '11');
    });

  test('a function declared in an earlier cell is checked against its signature', async () => {
    await evaluate(kernel(), 'function halve(n: number): number { return n / 2 }');
    assert.equal(await evaluate(kernel(), 'halve(8)'), '4');
    const error = await failure(kernel(), "halve('8')");
    assert.equal(assertTsError(error)[0]?.code, 2345, error.evalue);
  });

  test("a %time line's declarations and its cell's own both type the next cells", async () => {
    // The %time line is checked and run as a sub-cell while its cell runs: both are folded into the
    // history, the line's first, so neither replaces the other.
    await evaluate(kernel(), "const fromCell = 'cell';\n%time const fromTimedLine = 2\nconst afterLine = 3;");
    assert.equal(await evaluate(kernel(), 'const both: number = fromTimedLine + afterLine;\n`${fromCell} ${both}`'), "'cell 5'");
    const error = await failure(kernel(), "const notText: string = fromTimedLine");
    assert.equal(assertTsError(error)[0]?.code, 2322, error.evalue);
  });

  test('a cell without type errors shows its value as usual', async () => {
    const exchange = await kernel().execute('const fine: number = 41;\nfine + 1');
    assert.equal(executeReply(exchange).status, 'ok');
    assert.equal(resultText(exchange), '42');
  });
});
