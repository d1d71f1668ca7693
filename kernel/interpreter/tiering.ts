// How soon V8 compiles a function with its optimizing compiler (TurboFan): later for the kernel's
// own work, as V8 decides for a cell's code.
//
// V8 optimizes a function once it has run through a few interrupt budgets' worth of bytecode. That
// pays for code that stays hot; a typed cell's check is the opposite: it walks a wide path through
// TypeScript's parser, binder, checker and declaration emit once per cell. At V8's default budget
// TurboFan compiled 193-198 of those functions during cells 4-33 of bench/exec.ts's typed cell
// (--trace-opt), 15-16 at 15x the budget: compile jobs that took CPU from the cells on a 2-core
// machine and paid little back. A cell's own code is the other kind (a loop, a recursion): at 15x
// the budget, cells that loop or call a small function for 1.5-30 ms took 1.3-2.4x as long. So the
// kernel runs with the larger budget, and a cell's code, from its start until the cell is closed
// (finishCell), with V8's own: a %timeit loop runs the same code many times in one cell, and
// switches once, not at each run.
//
// The budget is read by V8 whenever a function's next budget starts, so the setting holds for each
// function from its next tick on. A budget other than V8's default also changes V8's flag hash, under
// which Node's built-in modules are not taken from its code cache (`require` of a built-in took
// about twice as long): a cell, which is when users require built-ins, runs under the default.
import v8 from 'node:v8';

/** The kernel's budget: 15x V8's default in Node 20. */
const KERNEL_BUDGET = 1_000_000;

/**
 * V8's own default budget, by V8 version (major.minor), as `node --v8-options` prints it: set back
 * for a cell's code it must be the very default (another value changes the flag hash, see above).
 * Under a V8 not listed here the kernel leaves the budget alone (test/unit/tiering.test.ts fails
 * until it is listed).
 */
export const V8_DEFAULT_BUDGET: Readonly<Record<string, number>> = { '11.3': 67584 };

function defaultBudget(): number | null {
  const [major, minor] = process.versions.v8.split('.');
  return V8_DEFAULT_BUDGET[`${major}.${minor}`] ?? null;
}

const userBudget = defaultBudget();
/** V8's as the process started, the kernel's, or a cell's (V8's default again, until the cell is closed). */
let mode: 'start' | 'kernel' | 'cell' = 'start';

function setBudget(budget: number): void {
  v8.setFlagsFromString(`--interrupt-budget=${budget}`);
}

/** The kernel's budget from now on: at start-up, and once a cell is closed. */
export function useKernelTiering(): void {
  if (userBudget === null || mode === 'kernel') return;
  mode = 'kernel';
  setBudget(KERNEL_BUDGET);
}

/** V8's default budget for a cell's code, until useKernelTiering (a no-op before the kernel's budget is in force). */
export function useCellTiering(): void {
  if (userBudget === null || mode !== 'kernel') return;
  mode = 'cell';
  setBudget(userBudget);
}

/**
 * V8's default budget again, as the process started. A start-up snapshot's build warms the compiler
 * under the kernel's budget (what V8 counted towards optimizing its functions stays in the blob),
 * then ends under the default: node loads a blob only under the V8 flags it was written under.
 */
export function leaveKernelTiering(): void {
  if (userBudget === null || mode !== 'kernel') return;
  mode = 'start';
  setBudget(userBudget);
}
