// Direct convolutions for model.trainStep on a software GPU. tfjs-backend-webgpu runs a small
// convolution as a tiled matrix product (or im2col then one), laid out for a GPU's many threads;
// lavapipe runs each workgroup as a loop on a CPU core, and the benchmark's CNN (3×3 filters,
// 1→8 and 8→16 channels, 64 images of 28×28) spent ~220 ms of its ~250 ms GPU step in its five
// convolution kernels. One invocation per output element (four channels at once where the
// channels come in fours) summing its window directly took them from 195 to 85 ms here
// (`npm run bench:train-kernels`, bench/train-kernels.ts). The forward pass and the filter gradient sum in
// tfjs's order (equal to its results, element for element, there); the input gradient walks the
// filter window backwards, as tfjs's rotated filter does: equal to tfjs's where the input channels
// are not a multiple of 4, ~1e-6 relative where they are (tfjs's vec4 product: not matched). On a
// hardware GPU tfjs's kernels stay: the direct ones were not measured on one. Stride 1, no
// dilation, NHWC, float32, bias and relu or no activation; anything else goes to tfjs. A float32
// tensor can sit in an int32 buffer (tfjs-backend-webgpu casts int32 or bool to float32 by sharing
// the data, e.g. `pixels.toFloat()`), so every read goes through f32().
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { TfCoreModule } from '../tfjs';
import { wrapForFastPath } from './fast-path';
import { type FlatProgram, flatProgram, runFlatProgram, type Uniform } from './gpu-program';

const UNIFORMS = 'dims: vec4<i32>, io: vec4<i32>, pads: vec4<i32>,';

/** The shapes every shader reads: filter [KH, KW, C, D], input [N, H, W, C], output [N, OH, OW, D], padding (top, left). */
interface Geometry {
  batch: number;
  filter: [number, number, number, number];
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  top: number;
  left: number;
}

// Each shader's index names an output element (or four along the channels, `lanes` 4) as tfjs's
// flat dispatch numbers them; the uniforms are the same for all three.
const PROLOGUE = 'let KH = uniforms.dims.x; let KW = uniforms.dims.y; let C = uniforms.dims.z; let D = uniforms.dims.w;';

function forwardShader(lanes: 1 | 4, bias: boolean, relu: boolean): string {
  const vec = lanes === 4 ? 'vec4<f32>' : 'f32';
  const weight = lanes === 4 ? 'vec4<f32>(f32(f[k]), f32(f[k + 1]), f32(f[k + 2]), f32(f[k + 3]))' : 'f32(f[k])';
  const biasAt = lanes === 4 ? 'vec4<f32>(f32(b[d]), f32(b[d + 1]), f32(b[d + 2]), f32(b[d + 3]))' : 'f32(b[d])';
  return `
  fn main(index: i32) {
    if (index >= uniforms.size) { return; }
    ${PROLOGUE}
    let d = (index % (D / ${lanes})) * ${lanes}; var rest = index / (D / ${lanes});
    let ow = rest % uniforms.io.w; rest = rest / uniforms.io.w;
    let oh = rest % uniforms.io.z; let n = rest / uniforms.io.z;
    var acc = ${vec}(0.0);
    for (var kh = 0; kh < KH; kh++) {
      let ih = oh - uniforms.pads.x + kh;
      if (ih < 0 || ih >= uniforms.io.x) { continue; }
      for (var kw = 0; kw < KW; kw++) {
        let iw = ow - uniforms.pads.y + kw;
        if (iw < 0 || iw >= uniforms.io.y) { continue; }
        let xAt = ((n * uniforms.io.x + ih) * uniforms.io.y + iw) * C;
        let fAt = (kh * KW + kw) * C * D + d;
        for (var c = 0; c < C; c++) {
          let k = fAt + c * D;
          acc = fma(${vec}(f32(x[xAt + c])), ${weight}, acc);
        }
      }
    }
    ${bias ? `acc = acc + ${biasAt};` : ''}
    ${relu ? `acc = max(acc, ${vec}(0.0));` : ''}
    result[index] = acc;
  }`;
}

function filterGradientShader(lanes: 1 | 4): string {
  const vec = lanes === 4 ? 'vec4<f32>' : 'f32';
  const upstream = lanes === 4 ? 'vec4<f32>(f32(dy[k]), f32(dy[k + 1]), f32(dy[k + 2]), f32(dy[k + 3]))' : 'f32(dy[k])';
  return `
  fn main(index: i32) {
    if (index >= uniforms.size) { return; }
    ${PROLOGUE}
    let d = (index % (D / ${lanes})) * ${lanes}; var rest = index / (D / ${lanes});
    let c = rest % C; rest = rest / C;
    let kw = rest % KW; let kh = rest / KW;
    var acc = ${vec}(0.0);
    for (var n = 0; n < uniforms.pads.z; n++) {
      for (var oh = 0; oh < uniforms.io.z; oh++) {
        let ih = oh - uniforms.pads.x + kh;
        if (ih < 0 || ih >= uniforms.io.x) { continue; }
        for (var ow = 0; ow < uniforms.io.w; ow++) {
          let iw = ow - uniforms.pads.y + kw;
          if (iw < 0 || iw >= uniforms.io.y) { continue; }
          let k = ((n * uniforms.io.z + oh) * uniforms.io.w + ow) * D + d;
          acc = fma(${vec}(f32(x[((n * uniforms.io.x + ih) * uniforms.io.y + iw) * C + c])), ${upstream}, acc);
        }
      }
    }
    result[index] = acc;
  }`;
}

function inputGradientShader(lanes: 1 | 4): string {
  const vec = lanes === 4 ? 'vec4<f32>' : 'f32';
  const weight = lanes === 4 ? 'vec4<f32>(f32(f[k]), f32(f[k + D]), f32(f[k + 2 * D]), f32(f[k + 3 * D]))' : 'f32(f[k])';
  return `
  fn main(index: i32) {
    if (index >= uniforms.size) { return; }
    ${PROLOGUE}
    let c = (index % (C / ${lanes})) * ${lanes}; var rest = index / (C / ${lanes});
    let iw = rest % uniforms.io.y; rest = rest / uniforms.io.y;
    let ih = rest % uniforms.io.x; let n = rest / uniforms.io.x;
    var acc = ${vec}(0.0);
    for (var kh = KH - 1; kh >= 0; kh--) {
      let oh = ih + uniforms.pads.x - kh;
      if (oh < 0 || oh >= uniforms.io.z) { continue; }
      for (var kw = KW - 1; kw >= 0; kw--) {
        let ow = iw + uniforms.pads.y - kw;
        if (ow < 0 || ow >= uniforms.io.w) { continue; }
        let yAt = ((n * uniforms.io.z + oh) * uniforms.io.w + ow) * D;
        let fAt = ((kh * KW + kw) * C + c) * D;
        for (var d = 0; d < D; d++) {
          let k = fAt + d;
          acc = fma(${vec}(f32(dy[yAt + d])), ${weight}, acc);
        }
      }
    }
    result[index] = acc;
  }`;
}

/** One invocation per output element, or per four along the channels (`lanes` 4). */
function program(shaderKey: string, variableNames: string[], outputShape: number[], lanes: 1 | 4, code: () => string): FlatProgram {
  return flatProgram({
    shaderKey: `tsgpu_${shaderKey}_${lanes}`, variableNames, outputShape, invocations: outputShape.reduce((size, dim) => size * dim, 1) / lanes,
    uniforms: UNIFORMS, code, vec4Output: lanes === 4, size: true,
  });
}

function uniformsOf(g: Geometry): Uniform[] {
  return [
    { type: 'int32', data: g.filter },
    { type: 'int32', data: [g.inHeight, g.inWidth, g.outHeight, g.outWidth] },
    { type: 'int32', data: [g.top, g.left, g.batch, 0] },
  ];
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | unknown;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The geometry of a convolution the direct shaders take, or null for tfjs's own kernel. */
function geometryOf(core: TfCoreModule, xShape: number[], filterShape: number[], attrs: ConvAttrs, dtypes: string[]): Geometry | null {
  if (dtypes.some((dtype) => dtype !== 'float32') || xShape.length !== 4 || filterShape.length !== 4 || (attrs.dataFormat ?? 'NHWC') !== 'NHWC') return null;
  const info = core.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    attrs.strides, attrs.dilations ?? 1, attrs.pad as 'valid', attrs.dimRoundingMode, false, 'channelsLast');
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  return {
    batch: info.batchSize, filter: [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels],
    inHeight: info.inHeight, inWidth: info.inWidth, outHeight: info.outHeight, outWidth: info.outWidth, top: info.padInfo.top, left: info.padInfo.left,
  };
}

/** Registers the direct convolutions for model.trainStep on `backendName`, a software GPU's backend. */
export function installDirectConvolutions(core: TfCoreModule, backendName: string): void {
  const run = (backend: unknown, made: FlatProgram, inputs: TensorInfo[], g: Geometry): TensorInfo => runFlatProgram(backend, made, inputs, uniformsOf(g));
  const forward = (args: Parameters<KernelFunc>[0], fused: boolean): TensorInfo | null => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const activation = fused ? (args.attrs as { activation?: string }).activation ?? 'linear' : 'linear';
    if (preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
    const g = geometryOf(core, x.shape, filter.shape, args.attrs as unknown as ConvAttrs, [x.dtype, filter.dtype, ...(bias ? [bias.dtype] : [])]);
    // A bias broadcast from anything but one value per output channel goes to tfjs.
    if (!g || (bias && (bias.shape.length !== 1 || bias.shape[0] !== g.filter[3]))) return null;
    const lanes = g.filter[3] % 4 === 0 ? 4 : 1;
    const relu = activation === 'relu';
    const code = (): string => forwardShader(lanes, bias !== undefined, relu);
    const made = program(`conv_${bias ? 'bias' : 'plain'}_${activation}`, bias ? ['x', 'f', 'b'] : ['x', 'f'], [g.batch, g.outHeight, g.outWidth, g.filter[3]], lanes, code);
    return run(args.backend, made, bias ? [x, filter, bias] : [x, filter], g);
  };
  wrapForFastPath(core, 'Conv2D', backendName, (args) => forward(args, false));
  wrapForFastPath(core, 'FusedConv2D', backendName, (args) => forward(args, true));
  wrapForFastPath(core, 'Conv2DBackpropFilter', backendName, (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
    const g = geometryOf(core, x.shape, attrs.filterShape, attrs, [x.dtype, dy.dtype]);
    if (!g) return null;
    const lanes = g.filter[3] % 4 === 0 ? 4 : 1;
    return run(args.backend, program('conv_filter_gradient', ['x', 'dy'], [...g.filter], lanes, () => filterGradientShader(lanes)), [x, dy], g);
  });
  wrapForFastPath(core, 'Conv2DBackpropInput', backendName, (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
    const g = geometryOf(core, attrs.inputShape, filter.shape, attrs, [dy.dtype, filter.dtype]);
    if (!g) return null;
    const lanes = g.filter[2] % 4 === 0 ? 4 : 1;
    return run(args.backend, program('conv_input_gradient', ['dy', 'f'], [g.batch, g.inHeight, g.inWidth, g.filter[2]], lanes, () => inputGradientShader(lanes)), [dy, filter], g);
  });
}
