// One Adam update of one variable as a single WGSL dispatch on a tfjs-backend-webgpu backend: the
// variable, its first and second moments are updated in place. tfjs's Adam runs 14 ops per
// variable (each its own dispatch, uniform buffer, bind group and output buffer) and swaps three
// buffers. The arithmetic is tfjs's, op for op, in f32, so the results match its own shaders'.
import type { DataId } from '../engine-internals';
import type { AdamUpdate } from './adam-update';

/** The parts of tfjs-backend-webgpu 4.22's backend (dist/backend_webgpu.js) a dispatch of our own needs. */
interface GpuBackendInternals {
  device: {
    createShaderModule(descriptor: { code: string }): unknown;
    createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): PipelineLike;
    createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: unknown }[] }): unknown;
  };
  tensorMap: { get(dataId: DataId): { resource: unknown; values: unknown; refCount: number } | undefined };
  commandQueueOwnedIds: { add(dataId: DataId): void };
  computePassEncoder: PassLike | null;
  commandEncoder: { beginComputePass(descriptor: object): PassLike };
  dispatchCountInPass: number;
  uploadToGPU(dataId: DataId): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeUniforms(uniforms: { type: 'float32' | 'int32'; data: number[] }[]): unknown;
}

interface PipelineLike {
  getBindGroupLayout(index: number): unknown;
}

interface PassLike {
  setPipeline(pipeline: unknown): void;
  setBindGroup(index: number, group: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
}

const WORKGROUP = 64;
const MAX_GROUPS_PER_DIMENSION = 65535;

// Each line is the tfjs op it stands for (adam_optimizer.js), in its order: the same f32 roundings.
const SHADER = /* wgsl */ `
struct Constants { betas: vec4<f32>, rates: vec2<f32>, size: i32 };
@group(0) @binding(0) var<storage, read_write> value: array<f32>;
@group(0) @binding(1) var<storage, read_write> firstMoment: array<f32>;
@group(0) @binding(2) var<storage, read_write> secondMoment: array<f32>;
@group(0) @binding(3) var<storage, read> gradient: array<f32>;
@group(0) @binding(4) var<storage, read> accBeta1: array<f32>;
@group(0) @binding(5) var<storage, read> accBeta2: array<f32>;
@group(0) @binding(6) var<uniform> constants: Constants;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let index = i32(id.x + id.y * groups.x * ${WORKGROUP}u);
  if (index >= constants.size) { return; }
  let g = gradient[index];
  let oneMinusAccBeta1 = 1.0 - accBeta1[0];
  let oneMinusAccBeta2 = 1.0 - accBeta2[0];
  let newFirstMoment = firstMoment[index] * constants.betas.x + g * constants.betas.y;
  let newSecondMoment = secondMoment[index] * constants.betas.z + (g * g) * constants.betas.w;
  let correctedFirst = newFirstMoment / oneMinusAccBeta1;
  let correctedSecond = newSecondMoment / oneMinusAccBeta2;
  firstMoment[index] = newFirstMoment;
  secondMoment[index] = newSecondMoment;
  value[index] = (correctedFirst / (sqrt(correctedSecond) + constants.rates.x)) * constants.rates.y + value[index];
}
`;

const pipelines = new WeakMap<object, PipelineLike>();

function pipelineOf(backend: GpuBackendInternals): PipelineLike {
  let pipeline = pipelines.get(backend);
  if (!pipeline) {
    const module = backend.device.createShaderModule({ code: SHADER });
    pipeline = backend.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    pipelines.set(backend, pipeline);
  }
  return pipeline;
}

/** Records the update into tfjs's command encoder, batched and submitted as tfjs batches its own dispatches. */
export function adamOnGpu(backend: object, update: AdamUpdate): null {
  const gpu = backend as GpuBackendInternals;
  const { value, firstMoment, secondMoment, gradient, accBeta1, accBeta2 } = update.tensors;
  const all = [value, firstMoment, secondMoment, gradient, accBeta1, accBeta2];
  for (const tensor of all) gpu.uploadToGPU(tensor.dataId);
  const { beta1, beta2, epsilon, learningRate } = update.constants;
  // As tfjs: 1 - beta is taken in double precision, then each scalar becomes an f32 tensor.
  const uniforms = gpu.makeUniforms([
    { type: 'float32', data: [beta1, 1 - beta1, beta2, 1 - beta2] },
    { type: 'float32', data: [epsilon, -learningRate] },
    { type: 'int32', data: [value.size] },
  ]);
  const pipeline = pipelineOf(gpu);
  const entries = all.map((tensor, binding) => ({ binding, resource: { buffer: gpu.tensorMap.get(tensor.dataId)!.resource } }));
  entries.push({ binding: all.length, resource: uniforms as { buffer: unknown } });
  const bindGroup = gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const tensor of all) gpu.commandQueueOwnedIds.add(tensor.dataId);
  gpu.ensureCommandEncoderReady();
  gpu.computePassEncoder ??= gpu.commandEncoder.beginComputePass({});
  const groups = Math.ceil(value.size / WORKGROUP);
  const x = Math.min(groups, MAX_GROUPS_PER_DIMENSION);
  gpu.computePassEncoder.setPipeline(pipeline);
  gpu.computePassEncoder.setBindGroup(0, bindGroup);
  gpu.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x), 1);
  gpu.dispatchCountInPass++;
  // The GPU copy is now newer than any host copy a read left behind.
  for (const tensor of [value, firstMoment, secondMoment]) gpu.tensorMap.get(tensor.dataId)!.values = null;
  if (gpu.dispatchCountInPass >= update.submitBatch) {
    gpu.endComputePassEncoder();
    gpu.submitQueue();
  }
  // Written in place: tfjs-backend-webgpu keeps no copy derived from a buffer's values.
  return null;
}
