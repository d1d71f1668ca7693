// `v.assign(value)` gives the variable the value's data, wherever the value lives: a variable the
// user put on gpu:0, assigned a value made on cpu (the current device, say), is on cpu from then
// on, and every op on it runs there, with no sign of it. PyTorch's `v.copy_(x)` copies into the
// variable's device instead. tfjs's behaviour stays (moving the data back would be a move the user
// did not ask for, and a GPU→host one cannot be made synchronously); the cell is told, once per line.
import type { BufferInfo, DataId, TensorLike } from './engine-internals';
import type { TfCoreModule } from './tfjs';

interface AssignableVariable extends TensorLike {
  readonly name: string;
  assign(newValue: TensorLike): void;
}

/** Says where `dataId` lives (cpu, gpu:N), or null for data tfjs no longer holds. */
type DeviceOfData = (dataId: DataId) => string | null;

export interface AssignWatch {
  deviceOfData: DeviceOfData;
  bufferOf(dataId: DataId): BufferInfo | undefined;
  /** Called once per assign that took a variable to another device. */
  warn(kernelName: string, message: string): void;
  /**
   * The variable's buffer is another one now (an optimizer's step assigns each weight a new one):
   * what was known of where the old one was put belongs to the variable, so to the new one too.
   */
  replaced(before: BufferInfo, after: BufferInfo): void;
}

/** Wraps Variable.prototype.assign: each assign that took a variable to another device is told; its new buffer keeps the old one's placement. */
export function watchVariableAssign(core: TfCoreModule, watch: AssignWatch): void {
  const proto = (core as unknown as { Variable: { prototype: AssignableVariable } }).Variable.prototype;
  const assign = proto.assign;
  const { deviceOfData, warn } = watch;
  proto.assign = function assignWatched(this: AssignableVariable, newValue: TensorLike): void {
    const before = deviceOfData(this.dataId);
    const beforeBuffer = watch.bufferOf(this.dataId);
    assign.call(this, newValue);
    const afterBuffer = watch.bufferOf(this.dataId);
    if (beforeBuffer !== undefined && afterBuffer !== undefined && beforeBuffer !== afterBuffer) watch.replaced(beforeBuffer, afterBuffer);
    const after = deviceOfData(this.dataId);
    if (before === null || after === null || before === after) return;
    // tfjs numbers a variable made without a name: "variable '2'" named nothing the user wrote.
    const named = /^\d+$/.test(this.name) ? `a variable tfjs numbered '${this.name}' (one made without a name, or an optimizer's own state)` : `variable '${this.name}'`;
    warn('Variable.assign', `${named} was on ${before} and is on ${after} now: assign() gives it the new value's data, `
      + `where that value was made (${after}), and its ops run there from now on. To keep it on ${before}, make the value there `
      + `(%device ${before}, or await value.to('${before}') before assign).`);
  };
}
