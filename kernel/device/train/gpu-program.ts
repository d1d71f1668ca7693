// Programs of the kernel's own (the fused loss, the direct convolutions) run through
// tfjs-backend-webgpu's runWebGPUProgram, so that tfjs's pipeline cache, uniforms, command batching
// and GPU timing serve them as they serve its own kernels. Each is a flat dispatch: one invocation
// per index, `main(index)` in the shader, 64 to a workgroup.
import type { TensorInfo } from '@tensorflow/tfjs-core';

/** tfjs-backend-webgpu 4.22's WebGPUProgram, the parts runWebGPUProgram reads. */
export interface FlatProgram {
  variableNames: string[];
  outputShape: number[];
  outputComponent?: number;
  /** Per input, its elements' width: without it tfjs gives the inputs the output's (four floats). */
  variableComponents?: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Adds `uniforms.size` (the output's element count, in `outputComponent`s) for the shader's bound check. */
  size?: boolean;
  uniforms: string;
  getUserCode(): string;
}

export interface Uniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** The part of tfjs-backend-webgpu 4.22's backend (dist/backend_webgpu.js) a program of our own needs. */
interface GpuProgramRunner {
  runWebGPUProgram(program: FlatProgram, inputs: TensorInfo[], outputDtype: 'float32', uniforms: Uniform[]): TensorInfo;
}

const WORKGROUP = 64;
/** WebGPU's guaranteed limit on workgroups per dimension: a longer dispatch wraps into y. */
const MAX_GROUPS_PER_DIMENSION = 65535;

export interface FlatProgramSpec {
  shaderKey: string;
  variableNames: string[];
  outputShape: number[];
  /** How many indices `main` is called with. */
  invocations: number;
  /** The uniforms' WGSL fields, as tfjs splices them into its uniforms struct. */
  uniforms: string;
  /** The shader's text, asked for only when tfjs has no pipeline for `shaderKey` yet (once per variant, not per op). */
  code: () => string;
  /** Four output floats per index (a vec4 output), each input read one float at a time. */
  vec4Output?: boolean;
  size?: boolean;
}

export function flatProgram(spec: FlatProgramSpec): FlatProgram {
  const groups = Math.ceil(spec.invocations / WORKGROUP);
  const x = Math.min(groups, MAX_GROUPS_PER_DIMENSION);
  return {
    shaderKey: spec.shaderKey, variableNames: spec.variableNames, outputShape: spec.outputShape,
    ...(spec.size ? { size: true } : {}),
    ...(spec.vec4Output ? { outputComponent: 4, variableComponents: spec.variableNames.map(() => 1) } : {}),
    dispatchLayout: { x: spec.outputShape.map((_, axis) => axis) }, dispatch: [x, Math.ceil(groups / x), 1], workgroupSize: [WORKGROUP, 1, 1],
    uniforms: spec.uniforms, getUserCode: spec.code,
  };
}

/** Runs `program` on a tfjs-backend-webgpu backend (a kernel function's `backend`). */
export function runFlatProgram(backend: unknown, program: FlatProgram, inputs: TensorInfo[], uniforms: Uniform[]): TensorInfo {
  return (backend as GpuProgramRunner).runWebGPUProgram(program, inputs, 'float32', uniforms);
}
