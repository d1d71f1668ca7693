// Plain tfjs in a plain Node process, for the benchmarks' raw baseline: the backends are registered
// the way the kernel registers them (wasm as `cpu`, Dawn's first adapter as a webgpu backend, with
// the kernel's GPU-wait pacing, which Dawn's binding needs on a software GPU), and nothing else of
// the kernel is loaded: no placement hooks, no ledger, no finalizer, no GPU clock.
import path from 'node:path';
import ts from 'typescript';
import { createGpuBackend, discoverGpus } from '../../kernel/device/webgpu';
import type { TfCoreModule, TfLayersModule } from '../../kernel/device/tfjs';

export type RawTf = TfCoreModule & TfLayersModule;

/** tfjs with `device` ('cpu' or 'gpu:0') current; also returns the backend for the breakdown's hooks. */
export async function rawTfjs(device: string): Promise<{ tf: RawTf; backend: object }> {
  const core = require('@tensorflow/tfjs-core') as TfCoreModule;
  require('@tensorflow/tfjs-backend-cpu');
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void };
  const layers = require('@tensorflow/tfjs-layers') as TfLayersModule;
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  wasm.setWasmPaths(`${wasmDir}${path.sep}`);
  if (device === 'cpu') {
    await core.setBackend('wasm');
    runMissingWasmKernelsOnCpu(core);
  } else {
    const { gpus, problem } = await discoverGpus();
    const index = Number(device.slice('gpu:'.length));
    const candidate = gpus[index];
    if (!candidate) throw new Error(`no ${device}: ${problem ?? `${gpus.length} GPU(s) found`}`);
    const handle = await createGpuBackend(core, 'gpu0', candidate);
    core.registerBackend('gpu0', () => handle.backend as never);
    await core.setBackend('gpu0');
  }
  const tf = Object.assign({}, core, layers) as RawTf;
  return { tf, backend: core.backend() };
}

interface SwitchableEngine {
  backendName: string;
  backendInstance: object;
  registry: Record<string, object>;
  runKernel(kernelName: string, inputs: unknown, attrs: unknown): unknown;
}

/**
 * wasm lacks some kernels training needs (Conv2DBackpropFilter…): plain tfjs fails there, the
 * kernel runs them on the cpu backend. The baseline does the same, with the fewest lines that can.
 */
function runMissingWasmKernelsOnCpu(core: TfCoreModule): void {
  const engine = core.engine() as unknown as SwitchableEngine & { initializeBackend(name: string): unknown };
  engine.initializeBackend('cpu');
  // The cpu backend greets Node users with advice to install tfjs-node on its first use.
  const cpuBackend = (engine.registry['cpu'] ?? {}) as { firstUse?: boolean };
  cpuBackend.firstUse = false;
  const wasmKernels = new Set(core.getKernelsForBackend('wasm').map((kernel) => kernel.kernelName));
  const proto = Object.getPrototypeOf(engine) as SwitchableEngine;
  const cpu = engine.registry['cpu']!;
  engine.runKernel = function runKernel(kernelName, inputs, attrs): unknown {
    if (wasmKernels.has(kernelName) || this.backendName !== 'wasm') return proto.runKernel.call(this, kernelName, inputs, attrs);
    const wasm = this.backendInstance;
    this.backendName = 'cpu';
    this.backendInstance = cpu;
    try {
      return proto.runKernel.call(this, kernelName, inputs, attrs);
    } finally {
      this.backendName = 'wasm';
      this.backendInstance = wasm;
    }
  };
}

/** Runs TypeScript source that declares functions, and returns the named ones. */
export function evaluateProgram<T>(source: string, names: string[], scope: Record<string, unknown>): T {
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None } }).outputText;
  const body = `${js}\nreturn { ${names.join(', ')} };`;
  return new Function(...Object.keys(scope), body)(...Object.values(scope)) as T;
}
