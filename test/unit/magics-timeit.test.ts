import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MagicContext } from '../../magics/context';
import { MagicError } from '../../magics/registry';
import { formatTimeitResult, timeitMagic } from '../../magics/timeit';

interface FakeOptions {
  /** What one call of the compiled code does. */
  body?: (call: number) => Promise<unknown> | unknown;
  syncMs?: number;
  compileMs?: number;
}

interface Fake {
  context: MagicContext;
  output: () => string;
  /** `compile:CODE`, `run:CODE`, `call`, `sync`, `print`, in order. */
  events: string[];
  calls: () => number;
}

function fakeContext(options: FakeOptions = {}): Fake {
  const printed: string[] = [];
  const events: string[] = [];
  let calls = 0;
  const context: MagicContext = {
    typecheck: 'on',
    describeTypecheck: () => { throw new Error('not expected'); },
    setStrictness: () => { throw new Error('not expected'); },
    print: (text) => { events.push('print'); printed.push(text); },
    display: () => { throw new Error('not expected'); },
    run: async (code) => { events.push(`run:${code}`); },
    compile: async (code) => {
      events.push(`compile:${code}`);
      if (options.compileMs) await sleep(options.compileMs);
      return async () => {
        events.push('call');
        const call = calls++;
        return options.body?.(call);
      };
    },
    synchronize: async () => {
      if (options.syncMs) await waitAtLeast(options.syncMs);
      events.push('sync');
    },
    userNames: () => [],
    devices: async () => { throw new Error('not expected'); },
  };
  return { context, output: () => printed.join(''), events, calls: () => calls };
}

/** Timers may fire a little early; lower bounds on printed times need the full wait. */
async function waitAtLeast(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) await sleep(Math.max(1, end - performance.now()));
}

/** A body that takes at least `ms`: a timer may fire early, the clock does not. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

const UNIT_SECONDS: Record<string, number> = { s: 1, ms: 1e-3, '\u00b5s': 1e-6, ns: 1e-9 };
const TIME = String.raw`(\d+(?:\.\d+)?(?:e[+-]\d+)?) (s|ms|\u00b5s|ns)`;

/** Microsecond bodies vary enough between runs that IPython's caching warning may come first. */
function result(runs: string, loops: string): RegExp {
  return new RegExp(`^(?:The slowest run took .*\n)?${TIME} \u00b1 ${TIME} per loop \\(mean \u00b1 std\\. dev\\. of ${runs}, ${loops} each\\)\n$`, 'u');
}

function meanSeconds(output: string): number {
  const match = new RegExp(`^(?:The slowest run took .*\n)?${TIME} \u00b1`, 'u').exec(output);
  assert.ok(match, output);
  return Number(match[1]) * UNIT_SECONDS[match[2]!]!;
}

function isUsageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof MagicError && pattern.test(error.message);
}

test('the result reads like IPython\'s: mean and population std. dev. per loop', () => {
  assert.equal(formatTimeitResult([1e-3, 2e-3, 3e-3], 1),
    '2 ms \u00b1 816 \u00b5s per loop (mean \u00b1 std. dev. of 3 runs, 1 loop each)');
  assert.equal(formatTimeitResult([2, 2], 1000),
    '2 ms \u00b1 0 ns per loop (mean \u00b1 std. dev. of 2 runs, 1,000 loops each)');
  assert.equal(formatTimeitResult([0.5], 10, 4), '50 ms \u00b1 0 ns per loop (mean \u00b1 std. dev. of 1 run, 10 loops each)');
});

test('without -n, loops grow tenfold until a run takes 0.2 s: a 2 ms body gets 100 loops', async () => {
  const fake = fakeContext({ body: () => busy(2) });
  await timeitMagic.line!('-r 1 work()', fake.context);
  assert.match(fake.output(), result('1 run', '100 loops'));
  // Autorange ran 1, 10 and 100 loops; the one timed run then 100.
  assert.equal(fake.calls(), 1 + 10 + 100 + 100);
  assert.ok(meanSeconds(fake.output()) >= 2e-3, fake.output());
});

test('code is compiled once, and each run of N loops ends with synchronize', async () => {
  const fake = fakeContext();
  await timeitMagic.line!('-n 3 -r 2 step()', fake.context);
  assert.deepEqual(fake.events, ['compile:step()', 'sync', 'call', 'call', 'call', 'sync', 'call', 'call', 'call', 'sync', 'print']);
  assert.match(fake.output(), result('2 runs', '3 loops'));
});

test('the wait for the device is inside each run\'s time', async () => {
  const fake = fakeContext({ syncMs: 30 });
  await timeitMagic.line!('-n1 -r2 queue()', fake.context);
  assert.match(fake.output(), result('2 runs', '1 loop'));
  assert.ok(meanSeconds(fake.output()) >= 0.03, fake.output());
});

test('the options may be attached (-n5) and -- ends them', async () => {
  const fake = fakeContext();
  await timeitMagic.line!('-n5 -r3 -- -x', fake.context);
  assert.equal(fake.events[0], 'compile:-x');
  assert.equal(fake.calls(), 15);
  assert.match(fake.output(), result('3 runs', '5 loops'));
});

test('bad -n and -r values say what is expected, before anything is compiled', async () => {
  const fake = fakeContext();
  for (const args of ['-n 0 f()', '-n abc f()', '-n 1.5 f()', '-r -2 f()', '-r0 f()', '-n']) {
    await assert.rejects(async () => timeitMagic.line!(args, fake.context),
      isUsageError(/^-[nr] takes a positive whole number \(the number of (loops per run|runs)\)/), args);
  }
  await assert.rejects(async () => timeitMagic.cell!('-r x', 'f()', fake.context), isUsageError(/-r takes a positive whole number/));
  await assert.rejects(async () => timeitMagic.line!('-o f()', fake.context), isUsageError(/does not support -o/));
  assert.deepEqual(fake.events, []);
});

test('%timeit with no code is a usage error', async () => {
  const fake = fakeContext();
  await assert.rejects(async () => timeitMagic.line!('', fake.context), isUsageError(/needs code/));
  await assert.rejects(async () => timeitMagic.line!('-n 10 -r 2', fake.context), isUsageError(/needs code/));
});

test('%%timeit times the body, runs the setup on its line first, and resolves with undefined', async () => {
  const fake = fakeContext({ body: () => 'a value' });
  const value = await timeitMagic.cell!('-n 2 -r 2 const a = setup()', 'use(a)', fake.context);
  assert.equal(value, undefined);
  assert.deepEqual(fake.events.slice(0, 2), ['run:const a = setup()', 'compile:use(a)']);
  assert.equal(fake.calls(), 4);
  assert.match(fake.output(), result('2 runs', '2 loops'));
});

test('an error from the code propagates unchanged, with nothing printed', async () => {
  const failure = new TypeError('bad');
  const fake = fakeContext({ body: () => { throw failure; } });
  await assert.rejects(async () => timeitMagic.cell!('', 'f()', fake.context), (error: unknown) => error === failure);
  assert.equal(fake.output(), '');
});

test('a first run much slower than the rest is pointed out, as IPython does', async () => {
  const fake = fakeContext({ body: (call) => { if (call === 0) busy(20); } });
  await timeitMagic.line!('-n 1 -r 3 warm()', fake.context);
  assert.match(fake.output(), /^The slowest run took \d+\.\d\d times longer than the fastest\. This could mean that an intermediate result is being cached\.\n/);
  assert.match(fake.output().split('\n')[1]!, /per loop \(mean \u00b1 std\. dev\. of 3 runs, 1 loop each\)$/u);
});

test('a slow compile (type checking) is reported after the result', async () => {
  const fake = fakeContext({ compileMs: 120 });
  await timeitMagic.line!('-n 1 -r 1 f()', fake.context);
  assert.match(fake.output(), /per loop .*\nCompiler time: \d+\.\d\d s\n$/u);
});
