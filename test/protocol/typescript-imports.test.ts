// Imports in cells: packages from the notebook's folder (CommonJS and ESM-only), tsgpu's own
// dependencies from an empty folder, node: builtins and files beside the notebook.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { evaluate, failure } from '../support/exchange';
import { useKernel } from '../support/fixtures';
import { assertQuoted, assertTsError, makeFolder, makeNotebookFolder } from '../support/typescript';

describe('imports from the notebook folder (the kernel\'s working directory)', () => {
  const folder = makeNotebookFolder();
  after(() => folder.remove());
  const kernel = useKernel({ cwd: folder.dir });

  test("`import cjs from 'cjs-pkg'` gives a CommonJS package's exports as the default", async () => {
    assert.equal(await evaluate(kernel(), "import cjs from 'cjs-pkg';\ncjs.answer"), '42');
  });

  test("`import * as ns from 'cjs-pkg'` gives its exports as a namespace", async () => {
    assert.equal(await evaluate(kernel(), "import * as cjsNs from 'cjs-pkg';\ncjsNs.greet('ns')"), "'hi ns'");
  });

  test("`import { greet } from 'cjs-pkg'` gives a named CommonJS export", async () => {
    assert.equal(await evaluate(kernel(), "import { greet } from 'cjs-pkg';\ngreet('named')"), "'hi named'");
  });

  test('an ESM-only package ("type": "module", exports.import) gives its default and named exports', async () => {
    assert.equal(await evaluate(kernel(), "import twice, { shout } from 'esm-pkg';\n[twice(2), shout('a')]"),
      "[ 4, 'A!' ]");
  });

  test("`import 'side-effect-pkg'` runs the package for its side effect", async () => {
    assert.equal(await evaluate(kernel(), 'typeof (globalThis as any).sideEffectPkgRan'), "'undefined'");
    await evaluate(kernel(), "import 'side-effect-pkg';");
    assert.equal(await evaluate(kernel(), '(globalThis as any).sideEffectPkgRan'), 'true');
  });

  test("`await import('esm-pkg')` and `await import('cjs-pkg')` load packages dynamically", async () => {
    assert.equal(await evaluate(kernel(), "const esmDyn = await import('esm-pkg');\nesmDyn.shout('dyn')"), "'DYN!'");
    assert.equal(await evaluate(kernel(), "const cjsDyn = await import('cjs-pkg');\ncjsDyn.answer"), '42');
  });

  test('names imported in a cell that only imports are usable in the next cell', async () => {
    await evaluate(kernel(), [
      "import { shout as loud } from 'esm-pkg';",
      "import * as nodePath from 'node:path';",
      "import cjsDefault from 'cjs-pkg';",
    ].join('\n'));
    assert.equal(await evaluate(kernel(), '[typeof loud, typeof nodePath, typeof cjsDefault]'),
      "[ 'function', 'object', 'object' ]");
    assert.equal(await evaluate(kernel(), "loud('later')"), "'LATER!'");
  });

  test('names imported and used in the same cell stay usable in the next cell', async () => {
    assert.equal(await evaluate(kernel(), "import { greet as hello } from 'cjs-pkg';\nhello('now')"), "'hi now'");
    assert.equal(await evaluate(kernel(), "hello('later')"), "'hi later'");
  });

  test('`node:` builtins import with their types', async () => {
    assert.equal(await evaluate(kernel(), "import path from 'node:path';\npath.join('a', 'b')"), "'a/b'");
    assert.equal(await evaluate(kernel(), "import { readFileSync } from 'node:fs';\ntypeof readFileSync"), "'function'");
    const error = await failure(kernel(), "path.join('a', 1)");
    assert.equal(assertTsError(error)[0]?.code, 2345, error.evalue);
  });

  test("`import { square } from './util.ts'` loads the TypeScript file beside the notebook, typed", async () => {
    assert.equal(await evaluate(kernel(), "import { square, flavour } from './util.ts';\n[square(3), flavour]"),
      "[ 9, 'ts' ]");
    const error = await failure(kernel(), "const squared: string = square(2)");
    assert.equal(assertTsError(error)[0]?.code, 2322, error.evalue);
  });

  test("`import { cube } from './cubes.js'` loads the JavaScript file beside the notebook", async () => {
    assert.equal(await evaluate(kernel(), "import { cube } from './cubes.js';\ncube(2)"), '8');
  });

  test("`import { mjsValue } from './util.mjs'` loads the ES module beside the notebook", async () => {
    assert.equal(await evaluate(kernel(), "import { mjsValue } from './util.mjs';\nmjsValue"), "'from mjs'");
  });

  test('a missing module is a TSError TS2307 "Cannot find module" under the module name', async () => {
    const source = "import { nothing } from 'no-such-module-anywhere';";
    const error = await failure(kernel(), source);
    const [problem] = assertTsError(error);
    assert.equal(problem?.code, 2307, error.evalue);
    assert.match(problem?.message ?? '', /Cannot find module 'no-such-module-anywhere'/);
    assertQuoted(error.traceback, problem?.at ?? -1, { line: 1, column: source.indexOf("'") + 1, source });
  });
});

describe("imports of tsgpu's own dependencies from an empty folder", () => {
  const folder = makeFolder({});
  after(() => folder.remove());
  const kernel = useKernel({ cwd: folder.dir });

  test("`import ts from 'typescript'` works and ts.version is a string", async () => {
    assert.equal(await evaluate(kernel(), "import ts from 'typescript';\ntypeof ts.version"), "'string'");
    assert.match(await evaluate(kernel(), 'ts.version') ?? '', /^'\d+\.\d+\.\d+.*'$/);
  });

  test("`import * as zmq from 'zeromq'` works", async () => {
    assert.equal(await evaluate(kernel(), "import * as zmq from 'zeromq';\ntypeof zmq.Dealer"), "'function'");
  });
});
