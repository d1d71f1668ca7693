// `tsgpu devices`: the devices a notebook on this machine can name, without starting a kernel.
import { textTable } from '../../magics/format';
import { DUPLICATE_SETTING } from '../device/duplicate-gpu';
import { discoverGpus } from '../device/webgpu';

export async function listDevices(): Promise<string> {
  const { gpus, problem, settingError } = await discoverGpus();
  const rows = [['cpu', 'cpu', 'tfjs-backend-wasm (SIMD)'],
    ...gpus.map((gpu, index) => {
      const again = gpu.duplicateOf === undefined ? '' : `, gpu:${gpu.duplicateOf}'s adapter opened again (${DUPLICATE_SETTING})`;
      return [`gpu:${index}`, gpu.software ? 'gpu (software)' : 'gpu', `WebGPU (${gpu.backend}): ${gpu.info.description || gpu.adapterName}${again}`];
    })];
  const notes = [problem, settingError].filter((note): note is string => typeof note === 'string').map((note) => `\nNote: ${note}\n`).join('');
  return `${textTable(['device', 'kind', 'backed by'], rows)}\n${notes}`;
}
