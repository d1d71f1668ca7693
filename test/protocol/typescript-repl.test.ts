// Notebook habits that plain TypeScript forbids: re-running a cell that declares something,
// awaiting at the top level, and seeing the last expression's value.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, executeReply, iopubOf, resultText } from '../support/exchange';
import { useKernel } from '../support/fixtures';

describe('TypeScript REPL semantics', () => {
  const kernel = useKernel();

  test('re-running `const x = 1` as `const x = "two"` rebinds x and later cells see a string', async () => {
    assert.equal(await evaluate(kernel(), 'const rerunConst = 1;\nrerunConst'), '1');
    assert.equal(await evaluate(kernel(), "const rerunConst = 'two';\nrerunConst"), "'two'");
    assert.equal(await evaluate(kernel(), 'rerunConst.toUpperCase()'), "'TWO'");
  });

  test('re-declaring a `let` with another type rebinds it and later cells see the new type', async () => {
    await evaluate(kernel(), 'let rerunLet = 1;');
    assert.equal(await evaluate(kernel(), "let rerunLet = 'a';\nrerunLet.length"), '1');
    assert.equal(await evaluate(kernel(), "rerunLet = 'bc';\nrerunLet.toUpperCase()"), "'BC'");
  });

  test('re-running `class C` with other members replaces the class for later cells', async () => {
    await evaluate(kernel(), 'class RerunClass { first = 1 }');
    await evaluate(kernel(), "class RerunClass { second = 'two' }");
    assert.equal(await evaluate(kernel(), 'new RerunClass().second.toUpperCase()'), "'TWO'");
    assert.equal(await evaluate(kernel(), "'first' in new RerunClass()"), 'false');
  });

  test('re-running `function f` with another return type replaces it for later cells', async () => {
    await evaluate(kernel(), 'function rerunFn() { return 1 }');
    await evaluate(kernel(), "function rerunFn() { return 'f' }");
    assert.equal(await evaluate(kernel(), 'rerunFn().toUpperCase()'), "'F'");
  });

  test('a cell that ends in a declaration (`let`, `class`, `function`) shows no result', async () => {
    for (const code of ['let declaredLast = 1', 'class DeclaredLast {}', 'function declaredLastFn() { return 1 }']) {
      const exchange = await kernel().execute(code);
      assert.equal(executeReply(exchange).status, 'ok', code);
      assert.deepEqual(iopubOf(exchange, 'execute_result'), [], `${code} showed a result`);
    }
  });

  test('a cell of comments shows no result, and a cell that is one string shows that string', async () => {
    for (const code of ['// just a comment', '/* a block comment */\n// and a line']) {
      const exchange = await kernel().execute(code);
      assert.equal(executeReply(exchange).status, 'ok', code);
      assert.deepEqual(iopubOf(exchange, 'execute_result'), [], `${code} showed a result`);
    }
    const text = iopubOf(await kernel().execute("'a string'"), 'execute_result');
    assert.equal(text.length, 1);
  });

  test('a cell that ends in `display(…)` shows the output once, not its handle as a result', async () => {
    const exchange = await kernel().execute("display('shown once')");
    assert.equal(iopubOf(exchange, 'display_data').length, 1);
    assert.deepEqual(iopubOf(exchange, 'execute_result'), []);
  });

  test('top-level await: `await Promise.resolve(7)` shows 7', async () => {
    assert.equal(await evaluate(kernel(), 'await Promise.resolve(7)'), '7');
  });

  test('a value awaited at the top level is kept for the next cell', async () => {
    await evaluate(kernel(), 'const awaited = await new Promise<number>((r) => setTimeout(() => r(5), 10));');
    assert.equal(await evaluate(kernel(), 'awaited * 2'), '10');
  });

  test('the last expression is the result, in Node inspect style: strings quoted, objects and arrays',
    async () => {
      assert.equal(await evaluate(kernel(), "'hello'"), "'hello'");
      assert.equal(await evaluate(kernel(), "const pair = { a: 1, b: 'x' };\npair"), "{ a: 1, b: 'x' }");
      assert.equal(await evaluate(kernel(), '[1, 2, 3].map((n) => n * 2)'), '[ 2, 4, 6 ]');
    });

  test('the result carries the cell\'s execution count', async () => {
    const exchange = await kernel().execute('6 * 7');
    assert.equal(resultText(exchange), '42');
    assert.equal(iopubOf(exchange, 'execute_result')[0]?.execution_count, executeReply(exchange).execution_count);
  });

  test('an object with [Symbol.for("Jupyter.display")]() shows the MIME bundle it returns', async () => {
    const exchange = await kernel().execute([
      'const rich = {',
      "  [Symbol.for('Jupyter.display')]() { return { 'text/html': '<b>rich</b>', 'text/plain': 'rich' } },",
      '};',
      'rich',
    ].join('\n'));
    assert.equal(executeReply(exchange).status, 'ok');
    const [result] = iopubOf(exchange, 'execute_result');
    assert.deepEqual(result?.data, { 'text/html': '<b>rich</b>', 'text/plain': 'rich' });
  });

  test('a closure sees later reassignments: `inc(); inc(); count` shows 2', async () => {
    await evaluate(kernel(), 'let count = 0;\nfunction inc() { return ++count }');
    assert.equal(await evaluate(kernel(), 'inc(); inc(); count'), '2');
    assert.equal(await evaluate(kernel(), 'count'), '2');
  });

  test('a closure made in one cell sees a variable reassigned in a later cell', async () => {
    await evaluate(kernel(), "let greeting = 'hi';\nconst greet = () => greeting;");
    await evaluate(kernel(), "greeting = 'hello';");
    assert.equal(await evaluate(kernel(), 'greet()'), "'hello'");
  });
});
