// Cells the start-up snapshot's build checks, folds into its history and transpiles, so that the
// compiler's code for what notebooks commonly write is compiled before the snapshot is written.
// A snapshot keeps the bytecode of every function that ran while it was built; a kernel started
// from it then runs the checker's and the emitter's paths for classes, generics, unions, narrowing,
// callbacks, async code and destructuring without compiling them on its first cells.
//
// They must check clean under both the default (loose) options and `strict`: an error would make
// the checker load Node's declarations, which the snapshot leaves for idle time (checker.ts).
// They never reach a kernel's history: the build's checker works in a folder of its own.
export const WARM_CELLS: readonly string[] = [
  `interface Point { x: number; y: number; label?: string }
type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'failed'; reason: string };
class Series<T extends { x: number }> {
  private readonly points: T[] = [];
  static readonly limit = 1000;
  constructor(public name: string) {}
  push(point: T): this { this.points.push(point); return this; }
  map<U>(f: (point: T, index: number) => U): U[] { return this.points.map(f); }
  get length(): number { return this.points.length; }
  *[Symbol.iterator](): Iterator<T> { yield* this.points; }
}
function describe(outcome: Outcome<number>): string {
  if (outcome.kind === 'ok') return \`value \${outcome.value.toFixed(2)}\`;
  return \`failed: \${outcome.reason}\`;
}
function attempt<T>(f: () => T): Outcome<T> {
  try { return { kind: 'ok', value: f() }; } catch (e) { return { kind: 'failed', reason: String(e) }; }
}
const series = new Series<Point>('warm').push({ x: 1, y: 2 }).push({ x: 3, y: 4, label: 'b' });
const xs = series.map((p) => p.x * 2).filter((x) => x > 0);
const sum = attempt(() => xs.reduce((a, b) => a + b, 0));
const text: string = describe(sum);
text`,
  `enum Kind { Circle = 'circle', Square = 'square' }
abstract class Shape {
  abstract area(): number;
  toString(): string { return \`\${this.constructor.name}(\${this.area()})\`; }
}
class Circle extends Shape {
  constructor(readonly r: number) { super(); }
  area(): number { return Math.PI * this.r ** 2; }
}
const byKind = new Map<Kind, Shape[]>();
const seen = new Set<string>();
for (const [kind, shape] of [[Kind.Circle, new Circle(1)]] as const) {
  const list = byKind.get(kind) ?? [];
  list.push(shape);
  byKind.set(kind, list);
  seen.add(shape.toString());
}
const { size } = seen;
const [first, ...rest] = [...seen];
const record: Record<string, number> = { ...Object.fromEntries([['a', 1]]), b: size };
const maybe: { deep?: { value?: number } } | undefined = undefined as { deep?: { value?: number } } | undefined;
const deep = maybe?.deep?.value ?? -1;
async function later<T>(value: T, ticks = 1): Promise<T> {
  for (let i = 0; i < ticks; i++) await new Promise<void>((resolve) => { void Promise.resolve().then(resolve); });
  return value;
}
const pair = await Promise.all([later(first), later(rest.length)]);
const keys = Object.keys(record) as (keyof typeof record)[];
function isCircle(shape: Shape): shape is Circle { return shape instanceof Circle; }
const radii = [...byKind.values()].flat().filter(isCircle).map(({ r }) => r);
({ pair, keys, deep, radii })`,
];
