// What a magic may use. The interpreter provides it; magics never see the protocol, and reach the
// devices only through DeviceControl.
import type { DeviceControl } from '../kernel/device/device-control';
import type { MimeBundle } from '../kernel/interpreter/interpreter';
import type { Strictness } from '../kernel/interpreter/typescript/compiler-options';

export type TypecheckMode = 'on' | 'warn' | 'off';

export interface MagicContext {
  typecheck: TypecheckMode;
  /** The type checker's options in force and where they came from (a tsconfig.json, the defaults, %typecheck). */
  describeTypecheck(): string;
  /** Turns the strict family on or off for the cells after this one. */
  setStrictness(strictness: Strictness): void;
  /** Text for the cell's stdout. */
  print(text: string): void;
  /** Rich output (a table, say) in the cell's output. */
  display(bundle: MimeBundle): void;
  /** Runs TypeScript as the cell would (type-checked, REPL semantics); resolves with its value. */
  run(code: string): Promise<unknown>;
  /** Checks and compiles once; each call of the result runs it again (for %timeit). */
  compile(code: string): Promise<() => Promise<unknown>>;
  /** Resolves once every device has finished the work queued so far: timing stops after this. */
  synchronize(): Promise<void>;
  /** The names cells have declared, with their current values (for %who). */
  userNames(): { name: string; value: unknown }[];
  /** The device layer, loaded on first use. */
  devices(): Promise<DeviceControl>;
}
