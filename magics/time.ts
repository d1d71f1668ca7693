// %time / %%time: IPython's report of CPU and wall time for one run. The device works
// asynchronously, so the clock stops only after context.synchronize(): otherwise a GPU cell would
// be timed by how fast it queued work, not by how long the work took.
import type { MagicContext } from './context';
import { type Magic, MagicError } from './registry';

const UNITS = ['s', 'ms', '\u00b5s', 'ns'] as const;
const SCALING = [1, 1e3, 1e6, 1e9] as const;
const LONG_UNITS: readonly [string, number][] = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];

function stripTrailingZeros(digits: string): string {
  return digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits;
}

/** C's `%.{precision}g`, which IPython's figures use (so 0.9997 ms is `1e+03 µs`, as there). */
export function formatSignificant(value: number, precision: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const [mantissa = '', exponentText = '0'] = value.toExponential(precision - 1).split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const sign = exponent < 0 ? '-' : '+';
    return `${stripTrailingZeros(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return stripTrailingZeros(value.toFixed(precision - 1 - exponent));
}

/** IPython's _format_time: `1.23 ms`, `45.6 µs`, `0 ns`; a minute or more as `1h 2min 3s`. */
export function formatTime(seconds: number, precision = 3): string {
  if (seconds >= 60) {
    const parts: string[] = [];
    let leftover = seconds;
    for (const [suffix, length] of LONG_UNITS) {
      const value = Math.trunc(leftover / length);
      if (value > 0) {
        leftover %= length;
        parts.push(`${value}${suffix}`);
      }
      if (leftover < 1) break;
    }
    return parts.join(' ');
  }
  const order = seconds > 0 ? Math.max(0, Math.min(-Math.floor(Math.floor(Math.log10(seconds)) / 3), 3)) : 3;
  return `${formatSignificant(seconds * SCALING[order]!, precision)} ${UNITS[order]!}`;
}

async function timed(code: string, context: MagicContext): Promise<unknown> {
  // Work queued before this code is not this code's: let it finish before the clock starts.
  await context.synchronize();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const value = await context.run(code);
  await context.synchronize();
  const wall = (performance.now() - wallStart) / 1e3;
  const cpu = process.cpuUsage(cpuStart);
  const user = cpu.user / 1e6;
  const system = cpu.system / 1e6;
  context.print(`CPU times: user ${formatTime(user)}, sys: ${formatTime(system)}, total: ${formatTime(user + system)}\n`
    + `Wall time: ${formatTime(wall)}\n`);
  return value;
}

export const timeMagic: Magic = {
  name: 'time',
  usage: '%time CODE, %%time',
  help: 'runs the code (or the cell) once and prints CPU and wall time, device work included',
  async line(args, context) {
    // A line magic runs before the cell's code and has no value to give back, so the code must be on the line.
    if (args.trim() === '') throw new MagicError('%time needs code to time: %time CODE, or %%time on the first line to time the cell');
    await timed(args, context);
  },
  async cell(args, body, context) {
    if (args.trim() !== '') throw new MagicError(`%%time takes no arguments, not "${args.trim()}": the cell below it is timed`);
    return timed(body, context);
  },
};
