import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MagicContext } from '../../magics/context';
import { envMagic } from '../../magics/env';
import { MagicError } from '../../magics/registry';
import { whoMagic } from '../../magics/who';

function fakeContext(names: { name: string; value: unknown }[] = []): { context: MagicContext; output: () => string } {
  const printed: string[] = [];
  const context: MagicContext = {
    typecheck: 'on',
    describeTypecheck: () => { throw new Error('not expected'); },
    setStrictness: () => { throw new Error('not expected'); },
    print: (text) => { printed.push(text); },
    display: () => { throw new Error('not expected'); },
    run: async () => { throw new Error('not expected'); },
    compile: async () => { throw new Error('not expected'); },
    synchronize: async () => {},
    userNames: () => names,
    devices: async () => { throw new Error('not expected'); },
  };
  return { context, output: () => printed.join('') };
}

// Stand-ins for tfjs's classes: Variable extends Tensor there too.
class Tensor {}
class Variable extends Tensor {}

function who(args: string, names: { name: string; value: unknown }[]): string {
  const fake = fakeContext(names);
  void whoMagic.line!(args, fake.context);
  return fake.output();
}

const NAMESPACE = [
  { name: 'weights', value: new Variable() },
  { name: 'x', value: new Tensor() },
  { name: 'count', value: 3 },
  { name: 'Label', value: 'cat' },
  { name: 'train', value: () => 1 },
  { name: 'Model', value: class Model {} },
  { name: 'seen', value: new Map() },
  { name: 'nothing', value: null },
];

test('%who lists the declared names sorted and tab-separated, like IPython', () => {
  assert.equal(who('', NAMESPACE), 'Label\t Model\t count\t nothing\t seen\t train\t weights\t x\t\n');
});

test('%who breaks the list after every nine names', () => {
  const names = Array.from({ length: 11 }, (_, i) => ({ name: `v${String(i).padStart(2, '0')}`, value: i }));
  const lines = who('', names).split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[0]!.split('\t').length - 1, 9);
  assert.equal(lines[1], 'v09\t v10\t');
  assert.equal(lines[2], '');
});

test('%who TYPE filters by typeof or by a class anywhere on the prototype chain', () => {
  assert.equal(who('number', NAMESPACE), 'count\t\n');
  assert.equal(who('function', NAMESPACE), 'Model\t train\t\n');
  assert.equal(who('Tensor', NAMESPACE), 'weights\t x\t\n');
  assert.equal(who('Variable', NAMESPACE), 'weights\t\n');
  assert.equal(who('Map', NAMESPACE), 'seen\t\n');
  assert.equal(who('null', NAMESPACE), 'nothing\t\n');
  assert.equal(who('  string   number ', NAMESPACE), 'Label\t count\t\n');
});

test('%who says when there is nothing to list', () => {
  assert.equal(who('', []), 'Interactive namespace is empty.\n');
  assert.equal(who('bigint', NAMESPACE), 'No variables match your requested type.\n');
});

test('%who copes with values whose prototype cannot be read', () => {
  const hostile = new Proxy({}, { getPrototypeOf() { throw new Error('no'); } });
  assert.equal(who('object', [{ name: 'p', value: hostile }]), 'p\t\n');
  assert.equal(who('Tensor', [{ name: 'p', value: hostile }]), 'No variables match your requested type.\n');
});

function withEnv(values: Record<string, string | undefined>, body: () => void): void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const restore = (from: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(from)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  restore(values);
  try {
    body();
  } finally {
    restore(saved);
  }
}

function env(args: string): string {
  const fake = fakeContext();
  void envMagic.line!(args, fake.context);
  return fake.output();
}

test('%env lists NAME=value lines sorted, hiding likely secrets', () => {
  withEnv({ TSGPU_TEST_B: 'two', TSGPU_TEST_A: 'one', TSGPU_TEST_API_KEY: 'hunter2', TSGPU_TEST_Token: 'abc' }, () => {
    const lines = env('').split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines, [...lines].sort());
    assert.equal(lines.length, Object.keys(process.env).length);
    const ours = lines.filter((line) => line.startsWith('TSGPU_TEST_'));
    assert.deepEqual(ours, ['TSGPU_TEST_A=one', 'TSGPU_TEST_API_KEY=<hidden>', 'TSGPU_TEST_B=two', 'TSGPU_TEST_Token=<hidden>']);
  });
});

test('%env NAME prints the value, and a MagicError when it is not set', () => {
  withEnv({ TSGPU_TEST_SET: 'a value with spaces', TSGPU_TEST_UNSET: undefined }, () => {
    assert.equal(env(' TSGPU_TEST_SET '), 'a value with spaces\n');
    assert.throws(() => env('TSGPU_TEST_UNSET'), (error: unknown) =>
      error instanceof MagicError && error.message === 'TSGPU_TEST_UNSET is not set');
  });
});

test('%env NAME=value and %env NAME value set process.env and echo it', () => {
  withEnv({ TSGPU_TEST_X: undefined, TSGPU_TEST_Y: undefined, TSGPU_TEST_Z: undefined, TSGPU_TEST_ARGS: undefined }, () => {
    assert.equal(env('TSGPU_TEST_X=1'), 'env: TSGPU_TEST_X=1\n');
    assert.equal(process.env.TSGPU_TEST_X, '1');
    assert.equal(env('TSGPU_TEST_Y  some value '), 'env: TSGPU_TEST_Y=some value\n');
    assert.equal(process.env.TSGPU_TEST_Y, 'some value');
    assert.equal(env('TSGPU_TEST_Z = spaced'), 'env: TSGPU_TEST_Z=spaced\n');
    // The first separator wins, so a value may hold `=` (IPython refuses this one).
    assert.equal(env('TSGPU_TEST_ARGS --flag=on'), 'env: TSGPU_TEST_ARGS=--flag=on\n');
    assert.equal(process.env.TSGPU_TEST_ARGS, '--flag=on');
    assert.equal(env('TSGPU_TEST_X='), 'env: TSGPU_TEST_X=\n');
    assert.equal(process.env.TSGPU_TEST_X, '');
  });
});

test('%env =value is a usage error', () => {
  assert.throws(() => env('=oops'), (error: unknown) => error instanceof MagicError && /needs a variable name/.test(error.message));
});
