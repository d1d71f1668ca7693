// Loads TensorFlow.js the first time a cell touches tensors, never before: a kernel whose cells
// never use tensors never pays for it (measured: ~0.1 s and ~60 MiB).
// Pinned at 4.22.0: the placement hooks (placement.ts) patch engine internals of that version.
import { markUserCreations } from './user-made';
import path from 'node:path';
import { installChainedOps } from './chained-ops';
import { installInputChecks } from './input-checks';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfLayers from '@tensorflow/tfjs-layers';

export type TfCoreModule = typeof TfCore;
export type TfLayersModule = typeof TfLayers;

export interface Tfjs {
  core: TfCoreModule;
  layers: TfLayersModule;
  /** What cells see as `tf`: core and layers in one namespace, as the @tensorflow/tfjs package has them. */
  namespace: TfCoreModule & TfLayersModule;
}

let loading: Promise<Tfjs> | null = null;

export function loadTfjs(): Promise<Tfjs> {
  loading ??= load();
  return loading;
}

/**
 * The wasm backend's Emscripten module adds process handlers that rethrow every uncaught error and
 * unhandled rejection, which ends the process: one failing timer callback in a cell would kill the
 * kernel and the user's state. The kernel's own handlers report those errors in the cell instead.
 */
async function withoutAddedCrashHandlers<T>(run: () => Promise<T>): Promise<T> {
  const before = { uncaught: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
  try {
    return await run();
  } finally {
    for (const listener of process.listeners('uncaughtException')) {
      if (!before.uncaught.includes(listener)) process.removeListener('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!before.rejection.includes(listener)) process.removeListener('unhandledRejection', listener);
    }
  }
}

function load(): Promise<Tfjs> {
  return withoutAddedCrashHandlers(loadModules);
}

async function loadModules(): Promise<Tfjs> {
  const core = require('@tensorflow/tfjs-core') as TfCoreModule;
  // Kernels the wasm backend lacks (Complex, FFT, Einsum, …) run on the cpu backend.
  require('@tensorflow/tfjs-backend-cpu');
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void };
  // tfjs-layers' bundle also registers every gradient: without it tf.grad fails in Node.
  const layers = require('@tensorflow/tfjs-layers') as TfLayersModule;
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  wasm.setWasmPaths(`${wasmDir}${path.sep}`);
  // Run once even though placement switches backends directly: this binds the wasm kernels' exports.
  await core.setBackend('wasm');
  const engine = core.engine() as unknown as { initializeBackend(name: string): unknown; registry: Record<string, { firstUse?: boolean }> };
  engine.initializeBackend('cpu');
  // The cpu backend greets Node users with advice to install tfjs-node on its first use.
  const cpu = engine.registry['cpu'];
  if (cpu) cpu.firstUse = false;
  installChainedOps(core);
  const namespace = Object.assign({}, core, layers) as TfCoreModule & TfLayersModule;
  installInputChecks(namespace);
  markUserCreations(namespace);
  return { core, layers, namespace };
}
