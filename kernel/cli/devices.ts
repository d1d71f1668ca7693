// `tsgpu devices`: the devices a notebook on this machine can name, without starting a kernel.
import { textTable } from '../../magics/format';
import { discoverGpus } from '../device/webgpu';

export async function listDevices(): Promise<string> {
  const { gpus, problem } = await discoverGpus();
  const rows = [['cpu', 'cpu', 'tfjs-backend-wasm (SIMD)'],
    ...gpus.map((gpu, index) => [`gpu:${index}`, gpu.software ? 'gpu (software)' : 'gpu', `WebGPU (${gpu.backend}): ${gpu.info.description || gpu.adapterName}`])];
  return `${textTable(['device', 'kind', 'backed by'], rows)}\n${problem ? `\nNote: ${problem}\n` : ''}`;
}
