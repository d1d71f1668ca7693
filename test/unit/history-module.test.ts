// The checker's history module (kernel/interpreter/typescript/history-module.ts): a cell's
// declarations added again right after themselves (the usual edit-and-rerun) are skipped, which
// must leave the history exactly as adding them again would.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ts from 'typescript';
import { HistoryModule } from '../../kernel/interpreter/typescript/history-module';

const FIRST = 'export declare const a: number;\nexport declare let b: string;\nexport interface P {\n    x: number;\n}\n';
const SECOND = 'export declare const c: boolean;\nexport declare let b: number;\n';

function history(adds: [string, string[]][]): HistoryModule {
  const module = new HistoryModule(ts);
  for (const [text, mutable] of adds) module.add(text, new Set(mutable));
  return module;
}

test('history module: the same declarations added twice in a row equal one add; between other adds they still move to the end', () => {
  const once = history([[SECOND, ['b']], [FIRST, ['b']]]);
  const twice = history([[SECOND, ['b']], [FIRST, ['b']], [FIRST, ['b']]]);
  assert.equal(twice.text(), once.text());
  assert.deepEqual([...twice.names()], [...once.names()]);
  // FIRST, SECOND, FIRST: the last add is not the same as the one before it, so b is FIRST's again and P comes last.
  const back = history([[FIRST, ['b']], [SECOND, []], [FIRST, ['b']]]);
  assert.match(back.text(), /export declare const c: boolean;\nexport declare const a: number;\nexport declare let b: string;\nexport interface P/);
  assert.equal(back.names().get('b'), true);
  // The same text with another mutability is another add: b declared by a const-like cell is no longer assignable.
  const remutated = history([[FIRST, ['b']], [FIRST, []]]);
  assert.equal(remutated.names().get('b'), false);
});
