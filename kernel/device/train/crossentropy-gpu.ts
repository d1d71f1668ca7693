// Categorical crossentropy on probabilities (tfjs-layers' loss, clip included) and its gradient,
// each as one WGSL program run through tfjs-backend-webgpu's own runWebGPUProgram (pipeline cache,
// uniforms, command batching and timing are tfjs's). One invocation per sample row: rows are
// short (the classes), and the row's sums are taken in order in f32. Inputs are read through f32():
// int32 labels cast to float32 keep their int32 buffer on tfjs-backend-webgpu, declared array<i32>.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { CrossentropyCall } from './crossentropy';
import { flatProgram, runFlatProgram, type Uniform } from './gpu-program';

const UNIFORMS = 'rows : i32, classes : i32, low : f32, high : f32,';

// L = -Σ_j t_j · log(clip(p_j / Σ_k p_k, ε, 1 - ε)), as tfjs-layers' categoricalCrossentropy.
// A NaN stays NaN through the clip, as through tfjs's ClipByValue: WGSL's clamp(NaN) may give
// either bound (lavapipe gives ε: a diverged model's loss read -log ε ≈ 16.1, never NaN), and a
// comparison with NaN may be folded away, so the test is on the bits.
const FORWARD = `
fn tsgpuIsNan(value : f32) -> bool { return (bitcast<u32>(value) & 0x7fffffffu) > 0x7f800000u; }
fn main(row : i32) {
  if (row >= uniforms.rows) { return; }
  let base = row * uniforms.classes;
  var total = 0.0;
  for (var j = 0; j < uniforms.classes; j++) { total = total + f32(P[base + j]); }
  var sum = 0.0;
  for (var j = 0; j < uniforms.classes; j++) {
    let q = f32(P[base + j]) / total;
    let clipped = select(clamp(q, uniforms.low, uniforms.high), q, tsgpuIsNan(q));
    sum = sum + f32(T[base + j]) * log(clipped);
  }
  result[row] = -sum;
}`;

// dp_k = g_k / s - (Σ_j g_j p_j) / s², with g_j = -dy · t_j / clip(q_j) where ε ≤ q_j ≤ 1 - ε (else 0),
// q = p / s, s = Σ p: the chain tfjs's gradients of neg, sum, mul, log, clipByValue and div make.
const GRADIENT = `
fn main(row : i32) {
  if (row >= uniforms.rows) { return; }
  let base = row * uniforms.classes;
  var total = 0.0;
  for (var j = 0; j < uniforms.classes; j++) { total = total + f32(P[base + j]); }
  let upstream = f32(D[row]);
  var weighted = 0.0;
  for (var j = 0; j < uniforms.classes; j++) {
    let q = f32(P[base + j]) / total;
    var g = 0.0;
    if (q >= uniforms.low && q <= uniforms.high) { g = -upstream * f32(T[base + j]) / q; }
    result[base + j] = g;
    weighted = weighted + g * f32(P[base + j]);
  }
  let correction = weighted / (total * total);
  for (var j = 0; j < uniforms.classes; j++) { result[base + j] = result[base + j] / total - correction; }
}`;

function uniformsOf(call: CrossentropyCall): Uniform[] {
  const [rows, classes] = call.probabilities.shape as [number, number];
  return [
    { type: 'int32', data: [rows] }, { type: 'int32', data: [classes] },
    { type: 'float32', data: [call.epsilon] }, { type: 'float32', data: [1 - call.epsilon] },
  ];
}

export function crossentropyOnGpu(backend: object, call: CrossentropyCall): TensorInfo {
  const rows = call.probabilities.shape[0]!;
  const program = flatProgram({ shaderKey: 'tsgpu_categorical_crossentropy', variableNames: ['P', 'T'], outputShape: [rows], invocations: rows, uniforms: UNIFORMS, code: () => FORWARD });
  return runFlatProgram(backend, program, [call.probabilities, call.targets], uniformsOf(call));
}

export function crossentropyGradientOnGpu(backend: object, call: CrossentropyCall & { upstream: TensorInfo }): TensorInfo {
  const rows = call.probabilities.shape[0]!;
  const program = flatProgram({
    shaderKey: 'tsgpu_categorical_crossentropy_grad', variableNames: ['P', 'T', 'D'], outputShape: call.probabilities.shape, invocations: rows, uniforms: UNIFORMS, code: () => GRADIENT,
  });
  return runFlatProgram(backend, program, [call.probabilities, call.targets, call.upstream], uniformsOf(call));
}
