// Completion and inspection for the plain JavaScript interpreter, from live values: the dotted
// name before the cursor is resolved from globalThis and its property names are offered.
import { inspect } from 'node:util';
import { codePointLength, utf16Index } from './code-points';
import type { Completion, Inspection } from './interpreter';

const KEYWORDS = ['await', 'async', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default',
  'delete', 'do', 'else', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in',
  'instanceof', 'let', 'new', 'null', 'return', 'static', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'undefined', 'var', 'void', 'while', 'yield'];

/** `a.b.c` path before the cursor: the object path and the partial name being typed. */
function dottedNameBefore(prefix: string): { path: string[]; partial: string } | null {
  const match = /((?:[A-Za-z_$][\w$]*\s*\.\s*)*)([A-Za-z_$][\w$]*)?$/.exec(prefix);
  if (!match || match[0] === '') return null;
  const path = (match[1] ?? '').split('.').map((part) => part.trim()).filter(Boolean);
  return { path, partial: match[2] ?? '' };
}

function resolvePath(path: string[]): unknown {
  let value: unknown = globalThis;
  for (const name of path) {
    if (value === null || value === undefined) return undefined;
    try {
      value = (value as Record<string, unknown>)[name];
    } catch {
      return undefined;
    }
  }
  return value;
}

function propertyNames(value: unknown): string[] {
  const names = new Set<string>();
  let object: unknown = value;
  if (typeof object !== 'object' && typeof object !== 'function') object = object === null || object === undefined ? null : Object(object);
  for (let depth = 0; object && depth < 20; depth++) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name);
    object = Object.getPrototypeOf(object);
  }
  return [...names].filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
}

export function completeAt(code: string, cursorPos: number): Completion {
  const cursor = utf16Index(code, cursorPos);
  const found = dottedNameBefore(code.slice(0, cursor));
  if (!found) return { matches: [], cursorStart: cursorPos, cursorEnd: cursorPos, metadata: {} };
  const candidates = found.path.length === 0
    ? [...propertyNames(globalThis), ...KEYWORDS]
    : propertyNames(resolvePath(found.path));
  const matches = [...new Set(candidates)].filter((name) => name.startsWith(found.partial)).sort();
  return { matches, cursorStart: cursorPos - codePointLength(found.partial), cursorEnd: cursorPos, metadata: {} };
}

export function inspectAt(code: string, cursorPos: number, detailLevel: number): Inspection {
  const cursor = utf16Index(code, cursorPos);
  // The name under the cursor extends to the end of the identifier the cursor is inside.
  const rest = /^[\w$]*/.exec(code.slice(cursor))?.[0] ?? '';
  const found = dottedNameBefore(code.slice(0, cursor) + rest);
  if (!found || found.partial === '') return { found: false, data: {} };
  const owner = resolvePath(found.path);
  if (owner === null || owner === undefined || !(found.partial in Object(owner))) return { found: false, data: {} };
  const value = resolvePath([...found.path, found.partial]);
  const name = [...found.path, found.partial].join('.');
  const text = typeof value === 'function'
    ? `${name}: ${detailLevel > 0 ? value.toString() : value.toString().split('\n')[0]}`
    : `${name}: ${inspect(value, { depth: detailLevel > 0 ? 4 : 1, colors: false })}`;
  return { found: true, data: { 'text/plain': text } };
}
