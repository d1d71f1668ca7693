// Which lines of a cell lie inside a loop the cell writes: the report's loop hints are about these
// lines only (a line repeated by a library or by %timeit is not the user's loop).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ts from 'typescript';
import { loopLines, loopLineSets } from '../../kernel/interpreter/typescript/loop-lines';

const linesOf = (code: string[]): number[] => [...loopLines(ts, code.join('\n'))].sort((a, b) => a - b);

test('for, for…of, for await, while and do bodies are loop lines; the lines around them are not', () => {
  assert.deepEqual(linesOf([
    'const xs = [1, 2];',
    'for (let i = 0; i < 3; i++) {',
    '  await x.data();',
    '}',
    'for (const x of xs) await x.to("gpu:0");',
    'for await (const batch of batches) {',
    '  use(batch);',
    '}',
    'while (more()) step();',
    'do {',
    '  step();',
    '} while (more());',
    'done();',
  ]), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('callbacks of looping array methods are loop lines; a plain callback is not', () => {
  assert.deepEqual(linesOf([
    'xs.forEach((x) => {',
    '  x.dataSync();',
    '});',
    'const ys = await Promise.all(xs.map((x) => x.to("gpu:0")));',
    'const zs = Array.from({ length: 4 }, () => tf.ones([2]));',
    'setTimeout(() => {',
    '  once();',
    '}, 10);',
    'const h = await model.fit(xs, ys, { epochs: 5 });',
  ]), [1, 2, 3, 4, 5]);
});

test('a function body is judged by its own loops, not by where it is called from', () => {
  assert.deepEqual(linesOf([
    'async function readOnce() {',
    '  const outs = [];',
    '  for (let start = 0; start < 1024; start += 64) {',
    '    outs.push(score(start));',
    '  }',
    '  return Array.from(await tf.concat(outs).data());',
    '}',
  ]), [3, 4, 5]);
});

test('a cell of magics and code (magic lines blanked by the parser) keeps its line numbers', () => {
  assert.deepEqual(linesOf([
    '                         ',
    'for (const step of progress(5)) {',
    '  await step;',
    '}',
  ]), [2, 3, 4]);
});

const someOf = (code: string[]): number[] => [...loopLineSets(ts, code.join('\n')).someIterations].sort((a, b) => a - b);

test('a line under a branch inside its innermost loop runs only on some iterations; a branch around the loop does not make it so', () => {
  assert.deepEqual(someOf([
    'for (let step = 0; step < 600; step++) {',
    '  const l = X.matMul(w).mean();',
    '  if (step % 50 === 0) {',
    '    await l.item();',
    '  } else skipped();',
    '  const v = ready ? await l.data() : null;',
    '  done && await l.data();',
    '  switch (step) {',
    '    case 1: await l.data();',
    '  }',
    '}',
    'if (train) {',
    '  for (const x of xs) {',
    '    await x.data();',
    '  }',
    '}',
    'for (let i = 0; i < 9; i++) if (i % 3 === 0) await l.item();',
    'for (const batch of batches) { if (flag) { for (const x of batch) {',
    '  await x.data();',
    '} } }',
  ]), [3, 4, 5, 6, 7, 9, 17]);
});
