// %timeit / %%timeit with IPython's semantics and output. Code is checked and compiled once, so
// the figures are the code's and not the type checker's; each run ends with
// context.synchronize() before the clock stops, so device work queued by the run is paid for in it.
import type { MagicContext } from './context';
import { type Magic, MagicError } from './registry';
import { formatTime } from './time';

const DEFAULT_REPEAT = 7;
const DEFAULT_PRECISION = 3;
/** IPython's autorange target: the loop count grows tenfold until one run takes this long. */
const AUTORANGE_SECONDS = 0.2;
const MAX_AUTORANGE_LOOPS = 1e6;
/** Compiling (type checking included) longer than this is worth mentioning, as IPython does. */
const REPORT_COMPILE_SECONDS = 0.1;

const LINE_USAGE = '%timeit [-n N] [-r R] [-p P] CODE';
const CELL_USAGE = '%%timeit [-n N] [-r R] [-p P] [SETUP]';

interface TimeitOptions {
  /** Loops per run; null: pick by autorange. */
  loops: number | null;
  repeat: number;
  precision: number;
  /** What follows the options: the code for %timeit, setup code for %%timeit. */
  rest: string;
}

const OPTIONS: Record<string, { key: 'loops' | 'repeat' | 'precision'; expected: string }> = {
  '-n': { key: 'loops', expected: 'the number of loops per run' },
  '-r': { key: 'repeat', expected: 'the number of runs' },
  '-p': { key: 'precision', expected: 'the significant digits shown' },
};
// IPython flags that make no sense here; named so that they are not taken for code and type-checked.
const UNSUPPORTED = new Set(['-o', '-q', '-t', '-c']);

function parseOptions(args: string, usage: string): TimeitOptions {
  const options: TimeitOptions = { loops: null, repeat: DEFAULT_REPEAT, precision: DEFAULT_PRECISION, rest: '' };
  let rest = args.trim();
  for (;;) {
    const match = /^(\S+)(?:\s+|$)/.exec(rest);
    if (!match) break;
    const token = match[1]!;
    if (token === '--') {
      rest = rest.slice(match[0].length);
      break;
    }
    if (UNSUPPORTED.has(token)) throw new MagicError(`%timeit does not support ${token}; usage: ${usage}`);
    const flag = token.slice(0, 2);
    const option = OPTIONS[flag];
    // Anything else starting with `-` may be code (`-x.value`), so only these flags are options.
    if (!option) break;
    rest = rest.slice(match[0].length);
    let value = token.slice(2);
    if (value === '') {
      const next = /^(\S+)(?:\s+|$)/.exec(rest);
      value = next?.[1] ?? '';
      rest = rest.slice(next?.[0].length ?? 0);
    }
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      const shown = value === '' ? 'nothing' : `"${value}"`;
      throw new MagicError(`${flag} takes a positive whole number (${option.expected}), not ${shown}; usage: ${usage}`);
    }
    options[option.key] = Number(value);
  }
  options.rest = rest.trim();
  return options;
}

/** Seconds for `loops` calls, the device's queued work included. */
async function timeRun(run: () => Promise<unknown>, loops: number, context: MagicContext): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < loops; i++) await run();
  await context.synchronize();
  return (performance.now() - start) / 1e3;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** IPython's TimeitResult text: the population standard deviation of the per-loop times. */
export function formatTimeitResult(runSeconds: readonly number[], loops: number, precision = DEFAULT_PRECISION): string {
  const perLoop = runSeconds.map((seconds) => seconds / loops);
  const average = mean(perLoop);
  const deviation = Math.sqrt(mean(perLoop.map((value) => (value - average) ** 2)));
  const runs = perLoop.length;
  return `${formatTime(average, precision)} \u00b1 ${formatTime(deviation, precision)} per loop `
    + `(mean \u00b1 std. dev. of ${runs} run${runs === 1 ? '' : 's'}, `
    + `${loops.toLocaleString('en-US')} loop${loops === 1 ? '' : 's'} each)`;
}

async function timeit(code: string, options: TimeitOptions, context: MagicContext): Promise<void> {
  const compileStart = performance.now();
  const run = await context.compile(code);
  const compileSeconds = (performance.now() - compileStart) / 1e3;
  // Work queued before the first run is not the code's.
  await context.synchronize();
  let loops = options.loops;
  if (loops === null) {
    for (loops = 1; loops < MAX_AUTORANGE_LOOPS; loops *= 10) {
      if (await timeRun(run, loops, context) >= AUTORANGE_SECONDS) break;
    }
  }
  const runs: number[] = [];
  for (let i = 0; i < options.repeat; i++) runs.push(await timeRun(run, loops, context));
  const best = Math.min(...runs) / loops;
  const worst = Math.max(...runs) / loops;
  let report = '';
  // A first run that compiles shaders or uploads weights shows up here, as caching does in IPython.
  if (worst > 4 * best && best > 0 && worst > 1e-6) {
    report += `The slowest run took ${(worst / best).toFixed(2)} times longer than the fastest. `
      + 'This could mean that an intermediate result is being cached.\n';
  }
  report += `${formatTimeitResult(runs, loops, options.precision)}\n`;
  if (compileSeconds > REPORT_COMPILE_SECONDS) report += `Compiler time: ${compileSeconds.toFixed(2)} s\n`;
  context.print(report);
}

export const timeitMagic: Magic = {
  name: 'timeit',
  usage: `${LINE_USAGE}, ${CELL_USAGE}`,
  help: 'times many runs of the code (or the cell), device work included; without -n, loops grow tenfold until a run takes 0.2 s',
  async line(args, context) {
    const options = parseOptions(args, LINE_USAGE);
    if (options.rest === '') throw new MagicError(`%timeit needs code to time; usage: ${LINE_USAGE}, or %%timeit to time the cell`);
    await timeit(options.rest, options, context);
  },
  async cell(args, body, context) {
    const options = parseOptions(args, CELL_USAGE);
    // Setup runs once, untimed, before the body is compiled, so the body can use what it declares.
    if (options.rest !== '') await context.run(options.rest);
    await timeit(body, options, context);
    return undefined;
  },
};
