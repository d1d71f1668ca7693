// The V8 flags a kernel process runs with.
//
// V8 compiles a function with TurboFan once it has run a certain amount (its interrupt budget).
// That pays for code that stays hot; a typed cell's check is the opposite: it walks a wide path
// through TypeScript's parser, binder, checker and declaration emit once, and the next cell walks
// it once more. At the default budget TurboFan compiled 176 of those functions during cells 4-33
// of the typed cell below (checked in one process, --trace-opt), 15 with this budget: compile jobs
// that took CPU from the cells on a 2-core machine and paid little back. A loop in a user's cell
// is hot enough to be compiled either way.
//
// Measured (25-line typed cell of bench/exec.ts, round trip until idle, p50 of runs 4-33 after a
// kernel's start, plain starts): 18-22 ms at the default, 13.6-14.5 ms with this budget; 15.6-17.4 ms
// at 4x the default, 13.1-14.2 ms at 60x, 13.6-14.2 ms with TurboFan off. Cells that loop, call,
// sort, parse JSON or run tfjs's CPU kernels took as long either way (README, "V8 flags").
//
// A start-up snapshot only loads into a process whose V8 flags are those it was built with (node
// exits otherwise), and the budget it was built with stays in the functions it holds: the snapshot
// is built with these flags and the launcher starts it with the flags its build recorded, and only
// under the NODE_OPTIONS it was built under, which may hold V8 flags too (snapshot-build.ts). A
// plain start sets them as the kernel starts, before the compiler loads (applyKernelV8Flags).
import v8 from 'node:v8';

export const KERNEL_V8_FLAGS: readonly string[] = ['--interrupt-budget=1000000'];

/**
 * In force for every function compiled from now on (a plain start has none of them yet; a start from
 * the snapshot has them all). They are the kernel's own: a process a cell forks, which takes
 * `process.execArgv`, gets the user's flags only, as it does from a plain start.
 */
export function applyKernelV8Flags(): void {
  for (const flag of KERNEL_V8_FLAGS) v8.setFlagsFromString(flag);
  for (let at = process.execArgv.length - 1; at >= 0; at--) if (KERNEL_V8_FLAGS.includes(process.execArgv[at]!)) process.execArgv.splice(at, 1);
}
