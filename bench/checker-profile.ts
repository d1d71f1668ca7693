// Where a typed cell's check goes: drives CellChecker directly (no kernel, no protocol), the way
// the interpreter does (check, commit, flush), and splits the LanguageService's check into building
// the program, the new type checker's set-up, checking the cell, and folding it into the history.
// Then times the kernel's check (its kept checker, resident-checker.ts) against the LanguageService
// alone, alternating cell by cell in the same process.
//
//   node dist/bench/checker-profile.js [--iters 30] [--tensors] [--errors evident|typed]
//
// --errors: each cell ends with a type error, as an edit-and-rerun loop meets them: `evident` one
// whose text prints no type (Cannot find name: the kept checker's verdict stands alone), `typed`
// one that prints a type (checked again by the LanguageService). The two checkers' diagnostics
// must be the same; CPU time is each checker's own, taken around each check.
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import type ts from 'typescript';
import { CellChecker } from '../kernel/interpreter/typescript/checker';
import { loadCheckerConfig } from '../kernel/interpreter/typescript/compiler-options';
import { PACKAGE_ROOT } from '../kernel/package-info';
import { Session } from 'node:inspector';
import { TYPED_CELL } from './lib/typed-cell';

const t = require('typescript') as typeof ts;


function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const iters = process.argv.includes('--iters') ? Number(process.argv[process.argv.indexOf('--iters') + 1]) : 30;
const tensors = process.argv.includes('--tensors');
const errorKind = process.argv.includes('--errors') ? process.argv[process.argv.indexOf('--errors') + 1] : undefined;
if (errorKind !== undefined && errorKind !== 'evident' && errorKind !== 'typed') throw new Error('--errors evident|typed');
const ERROR_LINE = { evident: '\nconst missing = notDeclaredAnywhere + 1;', typed: '\nconst wrong: number = label;' };
/** The cell of run `run`: the typed cell, with an error at its end under --errors. */
const cellOf = (run: number): string => TYPED_CELL(run) + (errorKind === undefined ? '' : ERROR_LINE[errorKind]);
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-profile-'));
// As the exec bench's notebook folder: the typed cell narrows a union, which needs strictNullChecks.
fs.writeFileSync(path.join(directory, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true } }));
const checker = new CellChecker(t, directory, loadCheckerConfig(t, directory), t.createDocumentRegistry(), true);
let started = performance.now();
checker.warmUp();
console.log(`warm-up ${(performance.now() - started).toFixed(0)} ms`);
started = performance.now();
checker.loadDeferredTypes();
console.log(`node types ${(performance.now() - started).toFixed(0)} ms`);
// The baseline: every cell through the LanguageService, as before the checker was kept.
const alone = new CellChecker(t, directory, loadCheckerConfig(t, directory), t.createDocumentRegistry(), false);
alone.warmUp();
alone.loadDeferredTypes();
if (tensors) {
  alone.addDeclarations(path.join(PACKAGE_ROOT, 'kernel', 'types', 'tensors.d.ts'));
  alone.check('const x = tf.tensor([1, 2]); const y = x.add(x);').commit();
  checker.addDeclarations(path.join(PACKAGE_ROOT, 'kernel', 'types', 'tensors.d.ts'));
  started = performance.now();
  const first = checker.check('const x = tf.tensor([1, 2]); const y = x.add(x);');
  first.commit();
  checker.flush();
  console.log(`tensor declarations ${(performance.now() - started).toFixed(0)} ms, ${first.diagnostics.length} diagnostics`);
}
/** The checker's parts the split times, reached past `private`: this script only reads timings. */
interface Inside { service: ts.LanguageService; setCurrent(code: string): string; current: string; flush(): void }
const inside = checker as unknown as Inside;
const phases: Record<string, number[]> = { program: [], 'new checker': [], 'check cell': [], 'declaration diagnostics': [] };
for (let run = 0; run < iters + 3; run++) {
  inside.flush();
  inside.setCurrent(TYPED_CELL(1000 + run));
  let at = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    if (run >= 3) phases[name]!.push(now - at);
    at = now;
  };
  const program = inside.service.getProgram()!;
  lap('program');
  program.getTypeChecker();
  lap('new checker');
  const file = program.getSourceFile(inside.current)!;
  program.getSemanticDiagnostics(file);
  lap('check cell');
  program.getDeclarationDiagnostics(file);
  lap('declaration diagnostics');
}
console.log(`split: ${Object.entries(phases).map(([name, values]) => `${name} ${median(values).toFixed(1)} ms`).join(', ')}`);
// --profile FILE: a CPU profile of the cells' loop below (not of the warm-up).
const profileTo = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1]! : null;
const session = new Session();
if (profileTo) {
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
}
// --heap-profile FILE: where the loop's allocations come from (sampled, every 32 KiB).
const heapTo = process.argv.includes('--heap-profile') ? process.argv[process.argv.indexOf('--heap-profile') + 1]! : null;
if (heapTo) {
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const checks: number[] = [];
const flushes: number[] = [];
const aloneChecks: number[] = [];
const cpuKept: number[] = [];
const cpuAlone: number[] = [];
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
let aloneTime = 0;
for (let run = 0; run < iters + 3; run++) {
  const aloneCpu = cpuMs();
  const aloneBegin = performance.now();
  const aloneChecked = alone.check(cellOf(run));
  if (errorKind === undefined) aloneChecked.commit();
  alone.flush();
  if (run >= 3) {
    aloneChecks.push(performance.now() - aloneBegin);
    cpuAlone.push(cpuMs() - aloneCpu);
  }
  aloneTime += performance.now() - aloneBegin;
  const keptCpu = cpuMs();
  const begin = performance.now();
  const checked = checker.check(cellOf(run));
  const checkedAt = performance.now();
  if (errorKind === undefined && checked.diagnostics.length > 0) throw new Error(JSON.stringify(checked.diagnostics));
  if (JSON.stringify(checked.diagnostics) !== JSON.stringify(aloneChecked.diagnostics)) {
    throw new Error(`the checkers differ: ${JSON.stringify(checked.diagnostics)} against ${JSON.stringify(aloneChecked.diagnostics)}`);
  }
  if (errorKind === undefined) checked.commit();
  checker.flush();
  if (run >= 3) {
    checks.push(checkedAt - begin);
    flushes.push(performance.now() - checkedAt);
    cpuKept.push(cpuMs() - keptCpu);
  }
}
const cpu = process.cpuUsage(cpuBefore);
const loops = iters + 3;
console.log(`check p50 ${median(checks).toFixed(1)} ms, flush p50 ${median(flushes).toFixed(1)} ms (n=${iters}, ${checker.residentChecks} clean and ${checker.residentErrors} with errors by the kept checker alone); `
  + `per cell, both checkers: wall ${((performance.now() - wallBefore) / loops).toFixed(1)} ms, process cpu ${((cpu.user + cpu.system) / 1000 / loops).toFixed(1)} ms`);
const checkAndFlush = checks.map((value, index) => value + flushes[index]!);
console.log(`check + flush p50: kept checker ${median(checkAndFlush).toFixed(1)} ms, LanguageService alone ${median(aloneChecks).toFixed(1)} ms `
  + `(same run, alternating): ${(median(checkAndFlush) / median(aloneChecks)).toFixed(2)}x; LanguageService alone ${(aloneTime / loops).toFixed(1)} ms per cell on average`);
if (profileTo) {
  session.post('Profiler.stop', (error, result) => {
    if (error) throw error;
    fs.writeFileSync(profileTo, JSON.stringify(result.profile));
  });
}
if (heapTo) {
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) throw error;
    fs.writeFileSync(heapTo, JSON.stringify(result.profile));
  });
}
console.log(`process CPU per check + flush, p50: kept checker ${median(cpuKept).toFixed(1)} ms, LanguageService alone ${median(cpuAlone).toFixed(1)} ms: `
  + `${(median(cpuKept) / median(cpuAlone)).toFixed(2)}x${errorKind === undefined ? '' : ` (cells with a${errorKind === 'evident' ? ' self-evident' : ' type-printing'} error)`}`);
const memory = process.memoryUsage();
console.log(`rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB`);
fs.rmSync(directory, { recursive: true, force: true });
