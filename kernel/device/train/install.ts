// The training kernels the kernel adds to tfjs, registered before placement lists wasm's kernels:
// the fused crossentropy (model.trainStep's loss) and wasm's convolution filter gradient.
import type { TfCoreModule } from '../tfjs';
import { installWasmConvFilterGradient } from './conv-filter-host';
import { installFusedCrossentropy } from './crossentropy';

export function installTrainingKernels(core: TfCoreModule): void {
  installFusedCrossentropy(core);
  installWasmConvFilterGradient(core);
}
