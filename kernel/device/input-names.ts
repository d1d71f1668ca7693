// The name a cell's line gives an op's input, for advice that says which tensor to move: with `x`
// already on gpu:0, `x.matMul(z)` moved `z`, and the advice said "await x.to('gpu:0')".
//
// tfjs names a binary op's inputs `a` and `b` (`x` for one input): `a.op(b)` and `tf.op(a, b)`
// put them in that order. Only a line with one such call, of the op that ran (`x.mul(z)` for
// Multiply), is read: inside `model.predict(batch)` the op's input `a` is no name of the line's,
// and neither is the first op's result in `x.sigmoid().mul(z)`. Anything else names nothing, and
// the advice falls back to a placeholder.

const NAME = String.raw`[A-Za-z_$][\w$]*`;
/** `w.matMul(z` or `w.add(z,` or `w.relu()`: the receiver and the first argument, where it is a name. */
const METHOD_CALL = new RegExp(String.raw`(?<![\w$.])(${NAME})\s*\.\s*(${NAME})\s*\(\s*(?:(${NAME})\s*([,)]))?`, 'g');
/** `tf.add(w, z` : the first two arguments, where they are names. */
const TF_CALL = new RegExp(String.raw`(?<![\w$.])tf\s*\.\s*${NAME}\s*\(\s*(${NAME})\s*(?:,\s*(${NAME})\s*[,)])?`, 'g');
/** Method calls that are no op on a tensor's values: they do not make the line's op. */
const NOT_OPS = new Set(['to', 'cpu', 'cuda', 'data', 'dataSync', 'array', 'arraySync', 'item', 'dispose', 'print', 'log', 'then']);
const NOT_TENSORS = new Set(['tf', 'console', 'Math', 'await', 'this', 'Promise', 'JSON', 'Object', 'Array']);
/** Any call of a method or function on the line: `.name(`, chained ones too. */
const ANY_CALL = new RegExp(String.raw`\.\s*(${NAME})\s*\(`, 'g');
/** Kernels whose names do not hold their op's: the op's name, lower-cased, to the kernels it runs. */
const KERNELS_OF: Record<string, readonly string[]> = {
  mul: ['Multiply'], div: ['RealDiv', 'FloorDiv'], matmul: ['BatchMatMul', '_FusedMatMul'], dot: ['BatchMatMul'],
  floordiv: ['FloorDiv'], mod: ['Mod'], squareddifference: ['SquaredDifference'],
};

/** Whether the call `name` runs the kernel `kernelName` (Add for add, Multiply for mul). */
function runsKernel(name: string, kernelName: string): boolean {
  const op = name.toLowerCase();
  return kernelName.toLowerCase().replace(/^_/, '') === op || (KERNELS_OF[op]?.includes(kernelName) ?? false);
}

/** The variable `line` passes as the input `input` (`a`, `b` or `x`) of the op that ran `kernelName`, or null when the line does not say. */
export function inputNameOnLine(line: string, input: string, kernelName: string): string | null {
  // One op called on the line, and it is the one that ran.
  const ops = [...line.matchAll(ANY_CALL)].map((match) => match[1]!).filter((name) => !NOT_OPS.has(name));
  if (ops.length !== 1 || !runsKernel(ops[0]!, kernelName)) return null;
  const calls: { a: string | null; b: string | null }[] = [];
  for (const match of line.matchAll(TF_CALL)) calls.push({ a: match[1] ?? null, b: match[2] ?? null });
  for (const match of line.matchAll(METHOD_CALL)) {
    const [, receiver, method, argument, after] = match;
    if (receiver === undefined || method === undefined || NOT_TENSORS.has(receiver) || NOT_OPS.has(method)) continue;
    // Two arguments: a function called through another name of tf's (`const T = tf; T.matMul(w, z)`), not a tensor's method.
    calls.push(after === ',' ? { a: null, b: null } : { a: receiver, b: argument ?? null });
  }
  if (calls.length !== 1) return null;
  const call = calls[0]!;
  const name = input === 'b' ? call.b : input === 'a' || input === 'x' ? call.a : null;
  return name !== null && !NOT_TENSORS.has(name) ? name : null;
}

/**
 * The names a line passes as the arguments of its call of `call` (`model.fit(bx, by, …)`: bx, by),
 * null for an argument that is no plain name (`tf.ones([8, 4])`, `train.xs`); one call of it on the
 * line, else none. Arguments are split at the call's own commas, not those inside brackets.
 */
export function callArgumentsOnLine(line: string, call: string): (string | null)[] {
  const calls = [...line.matchAll(new RegExp(String.raw`\.\s*${call}\s*\(`, 'g'))];
  if (calls.length !== 1) return [];
  const args: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const char of line.slice(calls[0]!.index! + calls[0]![0].length)) {
    if (quote !== null) {
      current += char;
      if (char === quote) quote = null;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    else if ('([{'.includes(char)) depth++;
    else if (')]}'.includes(char)) {
      if (depth === 0) break;
      depth--;
    } else if (char === ',' && depth === 0) {
      args.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim() !== '') args.push(current);
  const plain = new RegExp(`^\\s*(${NAME})\\s*$`);
  return args.map((arg) => {
    const name = plain.exec(arg)?.[1] ?? null;
    return name !== null && !NOT_TENSORS.has(name) ? name : null;
  });
}

/** The name a line calls `call` on (`m1.fit(…)`: m1), where the line calls it once on a plain name. */
export function callReceiverOnLine(line: string, call: string): string | null {
  const calls = [...line.matchAll(new RegExp(String.raw`(?<![\w$.])(${NAME})\s*\.\s*${call}\s*\(`, 'g'))];
  const name = calls.length === 1 ? calls[0]![1]! : null;
  return name !== null && !NOT_TENSORS.has(name) ? name : null;
}
