// Tiny validation combinators for JSON values: each schema lists the problems it finds
// (empty list = valid) and carries the TypeScript type it accepts, so a validated value can be
// read without casts. Hand-written on purpose: the test ring adds no dependency.

export type Problems = string[];

export interface Schema<T> {
  /** Short description used in problem texts, e.g. `string` or `"ok" | "error"`. */
  readonly describe: string;
  check(value: unknown, path: string): Problems;
  /** Set by `optional()`: the key may be absent from an object (but never null). */
  readonly optional?: true;
  /** Phantom field: never set, only carries T for `Infer`. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Primitive = string | number | boolean;

function show(value: unknown): string {
  if (value === undefined) return 'undefined (absent)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function predicate<T>(describe: string, test: (value: unknown) => boolean): Schema<T> {
  return {
    describe,
    check: (value, path) => (test(value) ? [] : [`${path}: expected ${describe}, got ${show(value)}`]),
  };
}

export const str: Schema<string> = predicate('string', (v) => typeof v === 'string');
export const nonEmptyStr: Schema<string> = predicate('non-empty string', (v) => typeof v === 'string' && v !== '');
export const bool: Schema<boolean> = predicate('boolean', (v) => typeof v === 'boolean');
export const int: Schema<number> = predicate('integer', (v) => Number.isInteger(v));
export const nonNegativeInt: Schema<number> = predicate('integer >= 0', (v) => Number.isInteger(v) && (v as number) >= 0);
export const nullValue: Schema<null> = predicate('null', (v) => v === null);
/** Any JSON value except `undefined` (a present key). */
export const anyJson: Schema<unknown> = predicate('any JSON value', (v) => v !== undefined);

export function pattern(re: RegExp, describe: string): Schema<string> {
  return predicate(describe, (v) => typeof v === 'string' && re.test(v));
}

export function literal<const L extends readonly Primitive[]>(...values: L): Schema<L[number]> {
  return predicate(values.map((v) => JSON.stringify(v)).join(' | '), (v) => values.includes(v as Primitive));
}

export function optional<T>(schema: Schema<T>): Schema<T> & { readonly optional: true } {
  return { describe: `optional ${schema.describe}`, check: schema.check, optional: true };
}

export function arrayOf<T>(item: Schema<T>): Schema<T[]> {
  return {
    describe: `array of ${item.describe}`,
    check: (value, path) => {
      if (!Array.isArray(value)) return [`${path}: expected array, got ${typeName(value)} ${show(value)}`];
      return value.flatMap((v, i) => item.check(v, `${path}[${i}]`));
    },
  };
}

export function tuple<const S extends readonly Schema<unknown>[]>(
  ...items: S
): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  return {
    describe: `[${items.map((s) => s.describe).join(', ')}]`,
    check: (value, path) => {
      if (!Array.isArray(value) || value.length !== items.length) {
        return [`${path}: expected a ${items.length}-element array, got ${show(value)}`];
      }
      return items.flatMap((s, i) => s.check(value[i], `${path}[${i}]`));
    },
  };
}

/** An object with arbitrary keys whose values all match `values` (a MIME bundle, a comms map). */
export function record<T>(values: Schema<T>): Schema<Record<string, T>> {
  return {
    describe: `object of ${values.describe}`,
    check: (value, path) => {
      if (!isPlainObject(value)) return [`${path}: expected object, got ${typeName(value)} ${show(value)}`];
      return Object.entries(value).flatMap(([k, v]) => values.check(v, `${path}.${k}`));
    },
  };
}

export const emptyObject: Schema<Record<string, never>> = predicate(
  'empty object {}',
  (v) => isPlainObject(v) && Object.keys(v).length === 0,
);

export type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<P extends Shape> = { [K in keyof P]: P[K] extends { optional: true } ? K : never }[keyof P];
type RequiredKeys<P extends Shape> = Exclude<keyof P, OptionalKeys<P>>;
type Flatten<T> = { [K in keyof T]: T[K] };
export type ObjectOf<P extends Shape> = Flatten<
  { [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }
>;

/** An object with at least the listed keys; extra keys are allowed (the spec lets kernels add fields). */
export function obj<const P extends Shape>(shape: P): Schema<ObjectOf<P>> {
  return {
    describe: `object {${Object.keys(shape).join(', ')}}`,
    check: (value, path) => {
      if (!isPlainObject(value)) return [`${path}: expected object, got ${typeName(value)} ${show(value)}`];
      return Object.entries(shape).flatMap(([key, schema]) => {
        if (!(key in value)) return schema.optional ? [] : [`${path}.${key}: missing (expected ${schema.describe})`];
        return schema.check(value[key], `${path}.${key}`);
      });
    },
  };
}

export function union<const S extends readonly Schema<unknown>[]>(...options: S): Schema<Infer<S[number]>> {
  const describe = options.map((s) => s.describe).join(' | ');
  return {
    describe,
    check: (value, path) => {
      const results = options.map((s) => s.check(value, path));
      if (results.some((r) => r.length === 0)) return [];
      return [`${path}: matches none of ${describe}: ${results.map((r) => r.join('; ')).join(' / ')}`];
    },
  };
}

/** A union selected by the string value of one field (e.g. `status` of a reply). */
export function variants<const M extends Record<string, Schema<unknown>>>(
  field: string,
  map: M,
): Schema<Infer<M[keyof M]>> {
  const names = Object.keys(map);
  return {
    describe: `${field} one of ${names.join('/')}`,
    check: (value, path) => {
      if (!isPlainObject(value)) return [`${path}: expected object, got ${typeName(value)} ${show(value)}`];
      const tag = value[field];
      const schema = typeof tag === 'string' && Object.hasOwn(map, tag) ? map[tag] : undefined;
      if (schema === undefined) {
        return [`${path}.${field}: expected one of ${names.map((n) => JSON.stringify(n)).join(' | ')}, got ${show(tag)}`];
      }
      return schema.check(value, path);
    },
  };
}
