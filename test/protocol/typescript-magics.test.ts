// %typecheck on|warn|off, the comment form //%typecheck, %lsmagic, %name? and unknown magics.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { cellError, evaluate, executeReply, resultText, streams } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { Exchange } from '../support/kernel-client';
import { assertQuoted, assertTsError } from '../support/typescript';

const NOT_NUMBER = "1:7 - error TS2322: Type 'string' is not assignable to type 'number'.";

describe('TypeScript magics', () => {
  const kernel = useKernel();

  const magic = async (code: string): Promise<Exchange> => {
    const exchange = await kernel().execute(code, {}, { timeoutMs: 30_000 });
    assert.equal(executeReply(exchange).status, 'ok', `${code}: ${JSON.stringify(exchange.reply.content)}`);
    return exchange;
  };

  const stdout = (exchange: Exchange): string =>
    streams(exchange).filter((s) => s.name === 'stdout').map((s) => s.text).join('');

  beforeEach(async () => {
    await magic('%typecheck on');
  });

  test('`%typecheck` alone prints the mode', async () => {
    assert.match(stdout(await magic('%typecheck')), /\bon\b/);
    await magic('%typecheck warn');
    assert.match(stdout(await magic('%typecheck')), /\bwarn\b/);
  });

  test('`%typecheck on`: a cell with a type error does not run', async () => {
    const exchange = await kernel().execute("const onMode: number = 'x';\nconsole.log('ran in on mode')");
    const error = cellError(exchange);
    assertTsError(error);
    assert.equal(error.evalue, NOT_NUMBER);
    assert.deepEqual(streams(exchange), []);
  });

  test('`%typecheck warn`: the report goes to stderr and the cell runs', async () => {
    await magic('%typecheck warn');
    const exchange = await kernel().execute("const warned: number = 'w';\nwarned");
    assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
    assert.equal(resultText(exchange), "'w'");
    const stderr = streams(exchange).filter((s) => s.name === 'stderr').map((s) => s.text).join('');
    const lines = stderr.split('\n');
    const at = lines.indexOf(NOT_NUMBER);
    assert.ok(at >= 0, `stderr lacks the report: ${JSON.stringify(stderr)}`);
    assertQuoted(lines, at, { line: 1, column: 7, source: "const warned: number = 'w';", width: 6 });
  });

  test('`%typecheck off`: no checking, the cell runs and nothing is reported', async () => {
    await magic('%typecheck off');
    const exchange = await kernel().execute("const unchecked: number = 'u' as unknown as number;\nconst loose: number = 'l';\nloose");
    assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
    assert.equal(resultText(exchange), "'l'");
    assert.deepEqual(streams(exchange).filter((s) => s.name === 'stderr'), []);
  });

  test('the comment form `//%typecheck off` at the top of a cell switches checking off', async () => {
    const exchange = await kernel().execute("//%typecheck off\nconst viaComment: number = 'c';\nviaComment");
    assert.equal(executeReply(exchange).status, 'ok', JSON.stringify(exchange.reply.content));
    assert.equal(resultText(exchange), "'c'");
    assert.match(stdout(await magic('%typecheck')), /\boff\b/);
  });

  for (const mode of ['on', 'warn', 'off'] as const) {
    test(`with %typecheck ${mode}, a syntax error is a TSError and the cell does not run`, async () => {
      await magic(`%typecheck ${mode}`);
      const marker = `syntaxRan_${mode}`;
      const exchange = await kernel().execute(`(globalThis as any).${marker} = true;\nconst broken = 1 +`);
      const error = cellError(exchange);
      const [problem] = assertTsError(error);
      assert.equal(problem?.code, 1109, error.evalue);
      assert.equal(problem?.line, 2);
      assertQuoted(error.traceback, problem?.at ?? -1, { line: 2, column: problem?.column ?? NaN, source: 'const broken = 1 +' });
      assert.equal(await evaluate(kernel(), `typeof (globalThis as any).${marker}`), "'undefined'");
    });
  }

  test('an unknown magic `%typo` is a MagicError whose evalue suggests %typecheck', async () => {
    const error = cellError(await kernel().execute('%typo'));
    assert.equal(error.ename, 'MagicError');
    assert.match(error.evalue, /typo/);
    assert.match(error.evalue, /%typecheck/, `no close name suggested: ${error.evalue}`);
  });

  test('a misspelt magic `%typechek off` suggests %typecheck and changes nothing', async () => {
    const error = cellError(await kernel().execute('%typechek off'));
    assert.equal(error.ename, 'MagicError');
    assert.match(error.evalue, /Did you mean %typecheck\?/);
    assert.match(stdout(await magic('%typecheck')), /\bon\b/);
  });

  test('`%lsmagic` prints the magics with their usage', async () => {
    const text = stdout(await magic('%lsmagic'));
    assert.match(text, /%lsmagic/);
    assert.match(text, /%typecheck \[strict\|loose\|on\|warn\|off\]/);
  });

  test('`%typecheck?` prints its usage', async () => {
    const text = stdout(await magic('%typecheck?'));
    assert.match(text, /%typecheck \[strict\|loose\|on\|warn\|off\]/);
  });
});

describe('line magics below code run at their place, as IPython runs them', () => {
  const kernel = useKernel();
  const stderrOf = (exchange: Exchange): string => streams(exchange).filter((stream) => stream.name === 'stderr').map((stream) => stream.text).join('');

  test('a %typecheck between two console.log lines prints between their output, with no warning', async () => {
    const exchange = await kernel().execute("console.log('before');\n%typecheck on\nconsole.log('after');");
    assert.equal(executeReply(exchange).status, 'ok');
    const stdout = streams(exchange).filter((stream) => stream.name === 'stdout').map((stream) => stream.text).join('');
    assert.equal(stdout, 'before\ntypecheck on\nafter\n');
    assert.equal(stderrOf(exchange), '');
  });

  test('a magic below code that fails stops the cell there: the code above it ran, the code below did not', async () => {
    const exchange = await kernel().execute('globalThis.ranAbove = 1;\n%typecheck sideways\nglobalThis.ranBelow = 1;');
    assert.equal(cellError(exchange).ename, 'MagicError');
    assert.equal(await evaluate(kernel(), "[typeof (globalThis as any).ranAbove, typeof (globalThis as any).ranBelow].join()"), "'number,undefined'");
  });

  test('a magic inside a block cannot run at its place: it runs first, and the cell warns so, naming its line', async () => {
    const exchange = await kernel().execute("for (let i = 0; i < 1; i++) {\n  %typecheck on\n  console.log('in loop');\n}");
    assert.equal(executeReply(exchange).status, 'ok');
    assert.match(stderrOf(exchange), /^Warning: line magics inside a block, a function or a %%cell magic's cell run before the cell's code: %typecheck \(line 2\) ran before the code on line 1\. Put it between top-level statements, or use `await withDevice\('gpu:0', \(\) => …\)`/);
    const stdout = streams(exchange).filter((stream) => stream.name === 'stdout').map((stream) => stream.text).join('');
    assert.equal(stdout, 'typecheck on\nin loop\n');
  });

  test('magics above the code, after comments, run first without a warning', async () => {
    const exchange = await kernel().execute('// set up\n%typecheck on\nconst quietMagic = 1;');
    assert.equal(executeReply(exchange).status, 'ok');
    assert.equal(stderrOf(exchange), '');
  });
});
