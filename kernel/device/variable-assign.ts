// `v.assign(value)` gives the variable the value's data, wherever the value lives: a variable the
// user put on gpu:0, assigned a value made on cpu (the current device, say), is on cpu from then
// on, and every op on it runs there, with no sign of it. PyTorch's `v.copy_(x)` copies into the
// variable's device instead. tfjs's behaviour stays (moving the data back would be a move the user
// did not ask for, and a GPU→host one cannot be made synchronously); the cell is told, once per line.
import type { DataId, TensorLike } from './engine-internals';
import type { TfCoreModule } from './tfjs';

interface AssignableVariable extends TensorLike {
  readonly name: string;
  assign(newValue: TensorLike): void;
}

/** Says where `dataId` lives (cpu, gpu:N), or null for data tfjs no longer holds. */
type DeviceOfData = (dataId: DataId) => string | null;

/** Wraps Variable.prototype.assign: `warn` hears of each assign that took a variable to another device. */
export function watchVariableAssign(core: TfCoreModule, deviceOfData: DeviceOfData, warn: (kernelName: string, message: string) => void): void {
  const proto = (core as unknown as { Variable: { prototype: AssignableVariable } }).Variable.prototype;
  const assign = proto.assign;
  proto.assign = function assignWatched(this: AssignableVariable, newValue: TensorLike): void {
    const before = deviceOfData(this.dataId);
    assign.call(this, newValue);
    const after = deviceOfData(this.dataId);
    if (before === null || after === null || before === after) return;
    warn('Variable.assign', `variable '${this.name}' was on ${before} and is on ${after} now: assign() gives it the new value's data, `
      + `where that value was made (${after}), and its ops run there from now on. To keep it on ${before}, make the value there `
      + `(%device ${before}, or await value.to('${before}') before assign).`);
  };
}
