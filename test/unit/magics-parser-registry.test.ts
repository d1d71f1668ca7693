import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCell } from '../../magics/parser';
import { type Magic, MagicError, MagicRegistry } from '../../magics/registry';

/** Every line of `code` is the cell's line, or spaces of its length where the cell had a magic. */
function assertBlankedInPlace(cell: string, code: string, magicLines: number[]): void {
  assert.equal(code.length, cell.length);
  const cellLines = cell.split('\n');
  const codeLines = code.split('\n');
  assert.equal(codeLines.length, cellLines.length);
  cellLines.forEach((line, index) => {
    const expected = magicLines.includes(index + 1) ? ' '.repeat(line.length) : line;
    assert.equal(codeLines[index], expected, `line ${index + 1}`);
  });
}

test('a line magic is taken out of the code, anywhere in the cell', () => {
  const cell = 'const a = 1;\n%time a + 1\nconst b = a % 2;';
  const parsed = parseCell(cell);
  assert.equal(parsed.cellMagic, null);
  assert.deepEqual(parsed.lineMagics, [{ name: 'time', args: 'a + 1', line: 2 }]);
  assertBlankedInPlace(cell, parsed.code, [2]);
});

test('several line magics, indented or not, keep their order and lines', () => {
  const cell = '%env A=1\n  %who number\nx\n%lsmagic';
  const parsed = parseCell(cell);
  assert.deepEqual(parsed.lineMagics, [
    { name: 'env', args: 'A=1', line: 1 },
    { name: 'who', args: 'number', line: 2 },
    { name: 'lsmagic', args: '', line: 4 },
  ]);
  assertBlankedInPlace(cell, parsed.code, [1, 2, 4]);
});

test('a trailing `;` or ` // comment` after a magic\'s words is habit, not argument; code magics keep theirs', () => {
  const cell = [
    '%device gpu:0                       // or: %device auto (best device), %devices (list)',
    '%device_policy warn;',
    '%report compact; // quieter',
    '%env URL=http://example.org/x',
    "%time f('a // b');",
    '%time x; // y',
    '%device gpu:0 # use the GPU',
  ].join('\n');
  assert.deepEqual(parseCell(cell).lineMagics.map((call) => call.args), [
    'gpu:0', 'warn', 'compact', 'URL=http://example.org/x', "f('a // b');", 'x; // y', 'gpu:0',
  ]);
  assert.deepEqual(parseCell('%%device gpu:0 // this cell\nx').cellMagic, { name: 'device', args: 'gpu:0', line: 1 });
});

test('a cell magic counts on the first non-blank line only', () => {
  const cell = '\n%%timeit -n 10\nwork();';
  const parsed = parseCell(cell);
  assert.deepEqual(parsed.cellMagic, { name: 'timeit', args: '-n 10', line: 2 });
  assert.deepEqual(parsed.lineMagics, []);
  assertBlankedInPlace(cell, parsed.code, [2]);

  const later = 'work();\n%%time\nmore();';
  const notFirst = parseCell(later);
  assert.equal(notFirst.cellMagic, null);
  // Left in place, so the checker points at it.
  assert.equal(notFirst.code, later);
});

test('the comment form //%name is a magic too, for editors\' checkers', () => {
  const cell = '//%%time\n//%typecheck warn\nconst x: number = 1;';
  const parsed = parseCell(cell);
  assert.deepEqual(parsed.cellMagic, { name: 'time', args: '', line: 1 });
  assert.deepEqual(parsed.lineMagics, [{ name: 'typecheck', args: 'warn', line: 2 }]);
  assertBlankedInPlace(cell, parsed.code, [1, 2]);
});

test('%name? asks for help', () => {
  assert.deepEqual(parseCell('%timeit?').lineMagics, [{ name: 'timeit?', args: '', line: 1 }]);
  assert.deepEqual(parseCell('%%time?\nx').cellMagic, { name: 'time?', args: '', line: 1 });
});

test('code that merely contains % is left alone', () => {
  for (const cell of ['a % b', 'x %= 3;', '`%time`', '// 50% done', '%1', '"%who"']) {
    const parsed = parseCell(cell);
    assert.equal(parsed.code, cell, cell);
    assert.deepEqual(parsed.lineMagics, [], cell);
    assert.equal(parsed.cellMagic, null, cell);
  }
});

function registry(): MagicRegistry {
  const magic = (name: string): Magic => ({ name, usage: `%${name}`, help: name, line: () => {} });
  return new MagicRegistry()
    .register(magic('typecheck')).register(magic('time')).register(magic('timeit'))
    .register(magic('who')).register(magic('env')).register(magic('lsmagic'));
}

function suggestion(name: string): string {
  try {
    registry().get(name);
  } catch (error) {
    assert.ok(error instanceof MagicError);
    return error.message;
  }
  assert.fail(`%${name} was found`);
}

test('the registry finds a magic by name and lists them sorted', () => {
  assert.equal(registry().get('timeit').name, 'timeit');
  assert.deepEqual(registry().list().map((magic) => magic.name), ['env', 'lsmagic', 'time', 'timeit', 'typecheck', 'who']);
});

test('an unknown magic suggests close names', () => {
  assert.match(suggestion('typo'), /^unknown magic %typo\. Did you mean %typecheck\? %lsmagic lists them all\.$/);
  const tim = suggestion('tim');
  assert.match(tim, /Did you mean %time or %timeit\?/);
  assert.doesNotMatch(tim, /%typecheck/);
  assert.match(suggestion('wh'), /Did you mean %who\?/);
  assert.match(suggestion('nothing_like_it'), /^unknown magic %nothing_like_it\. %lsmagic lists them all\.$/);
});
