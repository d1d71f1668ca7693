// A synchronous move between backends (tfjs's engine.moveData) in the order that loses nothing.
// tfjs lets the source's copy go first and then hands the values to the destination: where the
// destination refused them (a 4.3 GiB tensor into the 4 GiB heap of cpu's wasm backend: "Invalid
// typed array length"), the tensor said it was on cpu and held a fraction of its values. Here the
// destination takes the values first; the source lets them go only once it has them.
import type { BackendLike, DataId, EngineLike } from './engine-internals';
import { DeviceError } from './registry';

/** What tfjs's backends and engine have for a move, beyond the kernel's view of them. */
interface MovingBackend extends BackendLike {
  refCount(dataId: DataId): number;
  disposeData(dataId: DataId, force?: boolean): boolean;
  move(dataId: DataId, values: unknown, shape: number[], dtype: string, refCount: number): void;
}

interface MovingEngine extends EngineLike {
  readSync(dataId: DataId): unknown;
  shouldCheckForMemLeaks(): boolean;
  state: EngineLike['state'] & { numDataMovesStack: number[] };
}

export function moveKeepingSource(engine: EngineLike, to: BackendLike, dataId: DataId, names: { from: string; to: string }): void {
  const moving = engine as MovingEngine;
  const info = moving.state.tensorInfo.get(dataId);
  if (info === undefined) throw new Error('moveKeepingSource: a tensor the engine does not know');
  const source = info.backend as MovingBackend;
  const target = to as MovingBackend;
  const values = moving.readSync(dataId);
  const refCount = source.refCount(dataId);
  try {
    target.move(dataId, values, info.shape, info.dtype, refCount);
  } catch (error) {
    try {
      target.disposeData(dataId, true);
    } catch {
      // nothing of it was kept there
    }
    const size = `${(info.bytes / 2 ** 30).toFixed(2)} GiB`;
    throw new DeviceError(`moving a ${info.dtype} tensor of ${size} from ${names.from} to ${names.to} failed: ${(error as Error).message}. `
      + `The tensor stays on ${names.from}, unchanged. ${names.to === 'cpu' ? 'cpu (tfjs\'s wasm backend) holds at most 4 GiB in all; ' : ''}`
      + 'keep it where it is, or move it in parts (tf.split, slice).');
  }
  source.disposeData(dataId, true);
  info.backend = to;
  if (moving.shouldCheckForMemLeaks()) moving.state.numDataMovesStack[moving.state.numDataMovesStack.length - 1]!++;
}
