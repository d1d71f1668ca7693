import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MagicContext } from '../../magics/context';
import { MagicError } from '../../magics/registry';
import { formatSignificant, formatTime, timeMagic } from '../../magics/time';

const SYNC_MS = 30;

interface Fake {
  context: MagicContext;
  output: () => string;
  /** What happened, in order: `run:CODE`, `sync-start`, `sync-end`, `print`. */
  events: string[];
}

/** `run` evaluates nothing: it resolves with what `results` says for the code, or throws `fails`. */
function fakeContext(results: Record<string, unknown> = {}, fails?: Error): Fake {
  const printed: string[] = [];
  const events: string[] = [];
  const context: MagicContext = {
    typecheck: 'on',
    describeTypecheck: () => { throw new Error('not expected'); },
    setStrictness: () => { throw new Error('not expected'); },
    print: (text) => { events.push('print'); printed.push(text); },
    display: () => { throw new Error('not expected'); },
    run: async (code) => {
      events.push(`run:${code}`);
      if (fails) throw fails;
      return results[code];
    },
    compile: async () => { throw new Error('not expected'); },
    synchronize: async () => {
      events.push('sync-start');
      // Timers may fire a little early; the lower bound on the wall time needs the full wait.
      const end = performance.now() + SYNC_MS;
      while (performance.now() < end) await sleep(Math.max(1, end - performance.now()));
      events.push('sync-end');
    },
    userNames: () => [],
    devices: async () => { throw new Error('not expected'); },
  };
  return { context, output: () => printed.join(''), events };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, ms: 1e-3, '\u00b5s': 1e-6, ns: 1e-9 };
const TIME = String.raw`(\d+(?:\.\d+)?(?:e[+-]\d+)?) (s|ms|\u00b5s|ns)`;
const REPORT = new RegExp(`^CPU times: user ${TIME}, sys: ${TIME}, total: ${TIME}\nWall time: ${TIME}\n$`, 'u');

function wallSeconds(output: string): number {
  const match = REPORT.exec(output);
  assert.ok(match, `not an IPython time report: ${JSON.stringify(output)}`);
  return Number(match[7]) * UNIT_SECONDS[match[8]!]!;
}

test('formatTime follows IPython: three significant digits in s, ms, µs or ns', () => {
  assert.equal(formatTime(0.05), '50 ms');
  assert.equal(formatTime(0.0015), '1.5 ms');
  assert.equal(formatTime(0.12345), '123 ms');
  assert.equal(formatTime(3), '3 s');
  assert.equal(formatTime(1e-4), '100 \u00b5s');
  assert.equal(formatTime(1.2e-9), '1.2 ns');
  assert.equal(formatTime(1e-10), '0.1 ns');
  assert.equal(formatTime(0), '0 ns');
  // IPython picks the unit before rounding, so it shows these the same way.
  assert.equal(formatTime(0.9997), '1e+03 ms');
  assert.equal(formatTime(0.0009996), '1e+03 \u00b5s');
  assert.equal(formatTime(0.00123, 4), '1.23 ms');
});

test('formatTime writes a minute or more as days, hours, minutes and seconds', () => {
  assert.equal(formatTime(60), '1min');
  assert.equal(formatTime(75), '1min 15s');
  assert.equal(formatTime(120.4), '2min');
  assert.equal(formatTime(3661.5), '1h 1min 1s');
  assert.equal(formatTime(90061), '1d 1h 1min 1s');
});

test('formatSignificant is C\'s %g', () => {
  assert.equal(formatSignificant(1.2, 3), '1.2');
  assert.equal(formatSignificant(123.456, 3), '123');
  assert.equal(formatSignificant(45.6049, 3), '45.6');
  assert.equal(formatSignificant(1000, 3), '1e+03');
  assert.equal(formatSignificant(0.0001234, 3), '0.000123');
  assert.equal(formatSignificant(0.00001234, 3), '1.23e-05');
});

test('%%time prints CPU and wall time and resolves with the body\'s value', async () => {
  const fake = fakeContext({ 'body()': 42 });
  const value = await timeMagic.cell!('', 'body()', fake.context);
  assert.equal(value, 42);
  assert.match(fake.output(), REPORT);
});

test('the clock stops only after synchronize has resolved, and the wait is in the wall time', async () => {
  const fake = fakeContext({ x: 1 });
  await timeMagic.cell!('', 'x', fake.context);
  const run = fake.events.indexOf('run:x');
  // Earlier work is waited for before the clock starts; the code's own work after it ran.
  assert.deepEqual(fake.events.slice(run), ['run:x', 'sync-start', 'sync-end', 'print']);
  assert.ok(wallSeconds(fake.output()) >= SYNC_MS / 1e3, fake.output());
});

test('%time CODE runs the code on its line and prints the times', async () => {
  const fake = fakeContext();
  await timeMagic.line!('  tf.matMul(a, b)  ', fake.context);
  assert.ok(fake.events.some((event) => event.startsWith('run:') && event.includes('tf.matMul(a, b)')), String(fake.events));
  assert.ok(wallSeconds(fake.output()) >= SYNC_MS / 1e3);
});

test('%time with no code and %%time with arguments are usage errors', async () => {
  const fake = fakeContext();
  await assert.rejects(async () => timeMagic.line!('   ', fake.context), (error: unknown) =>
    error instanceof MagicError && /%time CODE/.test(error.message) && /%%time/.test(error.message));
  await assert.rejects(async () => timeMagic.cell!('x', 'y', fake.context), MagicError);
  assert.equal(fake.output(), '');
  assert.ok(!fake.events.some((event) => event.startsWith('run:')));
});

test('an error from the code propagates unchanged and no times are printed', async () => {
  const failure = new RangeError('boom');
  const fake = fakeContext({}, failure);
  await assert.rejects(async () => timeMagic.cell!('', 'throwing()', fake.context), (error: unknown) => error === failure);
  await assert.rejects(async () => timeMagic.line!('throwing()', fake.context), (error: unknown) => error === failure);
  assert.equal(fake.output(), '');
});
