// Hints for the classic mistakes of device code (from the PyTorch tutorial the product grew
// from): calling a tensor's device method on a plain array or string. Whether the type checker
// or the runtime catches it, the message ends with what to do instead.
const DEVICE_METHODS = new Set(['to', 'cuda', 'cpu']);
/** Array, tuple, typed-array and string types as the checker prints them. */
const NOT_A_TENSOR = /\[\]$|^\[.*\]$|^string$|^(readonly )?[A-Z]\w*Array(<.*>)?$|^"/;

export const ARRAY_IS_NOT_A_TENSOR_HINT = "Hint: arrays and strings are not tensors. Make one first with asTensor(x) "
  + "(string labels like ['1','0']: asTensor(labels, 'int32')), then move it: await asTensor(x).to('gpu:0').";

/** A forgotten await: a move (`x.to(...)`, `x.cpu()`) or a read gives a promise, not a tensor. */
export function forgottenAwaitHint(method: string): string {
  return `Hint: this is a Promise (moves and reads of tensors are asynchronous): add \`await\`, e.g. \`(await x.to('gpu:0')).${method}(…)\`, or \`x = await x.to('gpu:0')\` first.`;
}

/** TS2339 "Property 'cuda' does not exist on type 'number[]'" (TS2551 when it suggests a name). */
export function typeErrorHint(code: number, message: string): string | null {
  if (code !== 2339 && code !== 2551) return null;
  const match = /Property '(\w+)' does not exist on type '(.+?)'\./.exec(message);
  if (!match) return null;
  // `Promise<Tensor<Rank>>`, `Promise<Float32Array | Int32Array | Uint8Array>`…: any method on a promise of ours.
  if (/^Promise<.+>$/.test(match[2]!)) return forgottenAwaitHint(match[1]!);
  if (!DEVICE_METHODS.has(match[1]!)) return null;
  return NOT_A_TENSOR.test(match[2]!) ? ARRAY_IS_NOT_A_TENSOR_HINT : null;
}

/** TypeError "labels.cuda is not a function" at run time. */
export function runtimeErrorHint(name: string, message: string): string | null {
  if (name !== 'TypeError') return null;
  return /\.(to|cuda|cpu) is not a function$/.test(message) ? ARRAY_IS_NOT_A_TENSOR_HINT : null;
}
