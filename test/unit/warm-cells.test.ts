// The start-up snapshot's build checks its warm-up cells (kernel/interpreter/typescript/warm-cells.ts) under the
// default options and under `strict`, before Node's declarations load, and refuses to build a
// snapshot when one has an error (an error would make the checker load Node's declarations into
// the snapshot). Each must check clean the way the build checks it, with no diagnostics at all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { CellChecker } from '../../kernel/interpreter/typescript/checker';
import { loadCheckerConfig } from '../../kernel/interpreter/typescript/compiler-options';
import { CellTranspiler } from '../../kernel/interpreter/typescript/transpile';
import { WARM_CELLS } from '../../kernel/interpreter/typescript/warm-cells';

for (const strict of [false, true]) {
  test(`the snapshot's warm-up cells check clean ${strict ? 'under strict' : 'under the default options'}, before Node's declarations load`, () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-warm-cells-'));
    try {
      if (strict) fs.writeFileSync(path.join(directory, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
      const checker = new CellChecker(ts, directory, loadCheckerConfig(ts, directory), ts.createDocumentRegistry());
      checker.warmUp();
      const transpiler = new CellTranspiler(ts);
      for (const cell of WARM_CELLS) {
        const checked = checker.check(cell);
        assert.deepEqual(checked.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`), [], cell.split('\n')[0]);
        assert.equal(checker.deferring, true, 'checking the warm-up cells loaded Node\'s declarations');
        checked.commit();
        checker.flush();
        assert.deepEqual(transpiler.transpile(cell).syntaxErrors, []);
      }
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
}
