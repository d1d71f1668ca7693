// The 25-line typed cell both execution benches run (bench/exec.ts through the kernel,
// bench/checker-profile.ts through the checker alone); `run` makes each run's text new.
export const TYPED_CELL = (run: number): string => `// run ${run}
interface Shape { kind: 'circle' | 'square'; size: number }
type Result<T> = { ok: true; value: T } | { ok: false; error: string };
class Box<T> {
  constructor(private readonly items: T[] = []) {}
  add(item: T): this { this.items.push(item); return this; }
  map<U>(f: (item: T) => U): Box<U> { return new Box(this.items.map(f)); }
  get size(): number { return this.items.length; }
  values(): T[] { return [...this.items]; }
}
function area(shape: Shape): number {
  switch (shape.kind) {
    case 'circle': return Math.PI * shape.size ** 2;
    case 'square': return shape.size ** 2;
  }
}
function safe<T>(f: () => T): Result<T> {
  try { return { ok: true, value: f() }; } catch (e) { return { ok: false, error: String(e) }; }
}
const shapes: Shape[] = [{ kind: 'circle', size: 1 }, { kind: 'square', size: 2 }];
const box = new Box<Shape>().add(shapes[0]!).add(shapes[1]!);
const areas = box.map(area).values();
const total = safe(() => areas.reduce((a, b) => a + b, 0));
const label: string = total.ok ? total.value.toFixed(2) : total.error;
label`;
