// The name a cell's line gives an op's input, for advice that says which tensor to move: with `x`
// already on gpu:0, `x.matMul(z)` moved `z`, and the advice said "await x.to('gpu:0')".
//
// tfjs names a binary op's inputs `a` and `b` (`x` for one input): `a.op(b)` and `tf.op(a, b)`
// put them in that order. Only a line with one such call is read; anything else names nothing,
// and the advice falls back to a placeholder.

const NAME = String.raw`[A-Za-z_$][\w$]*`;
/** `w.matMul(z` or `w.add(z,` or `w.relu()`: the receiver and the first argument, where it is a name. */
const METHOD_CALL = new RegExp(String.raw`(?<![\w$.])(${NAME})\s*\.\s*(${NAME})\s*\(\s*(?:(${NAME})\s*[,)])?`, 'g');
/** `tf.add(w, z` : the first two arguments, where they are names. */
const TF_CALL = new RegExp(String.raw`(?<![\w$.])tf\s*\.\s*${NAME}\s*\(\s*(${NAME})\s*(?:,\s*(${NAME})\s*[,)])?`, 'g');
/** Method calls that are no op on a tensor's values: they do not make the line's op. */
const NOT_OPS = new Set(['to', 'cpu', 'cuda', 'data', 'dataSync', 'array', 'arraySync', 'item', 'dispose', 'print', 'log', 'then']);
const NOT_TENSORS = new Set(['tf', 'console', 'Math', 'await', 'this', 'Promise', 'JSON', 'Object', 'Array']);

/** The variable `line` passes as the op's input `input` (`a`, `b` or `x`), or null when the line does not say. */
export function inputNameOnLine(line: string, input: string): string | null {
  const calls: { a: string | null; b: string | null }[] = [];
  for (const match of line.matchAll(TF_CALL)) calls.push({ a: match[1] ?? null, b: match[2] ?? null });
  for (const match of line.matchAll(METHOD_CALL)) {
    const [, receiver, method, argument] = match;
    if (receiver === undefined || method === undefined || NOT_TENSORS.has(receiver) || NOT_OPS.has(method)) continue;
    calls.push({ a: receiver, b: argument ?? null });
  }
  if (calls.length !== 1) return null;
  const call = calls[0]!;
  const name = input === 'b' ? call.b : input === 'a' || input === 'x' ? call.a : null;
  return name !== null && !NOT_TENSORS.has(name) ? name : null;
}
