// The compiler's compact copy, which the start-up snapshot holds in place of typescript.js.
//
// A snapshot holds every script's source text, and a process started from it reads, checks and
// copies all of it before the first line runs; a worker thread it starts deserializes the same
// heap again. typescript.js is 9 MB of the 25 MB blob. Its copy with whitespace, comments and local
// names minified (scripts/compact-typescript.ts, at build time, since the minifier is a build tool),
// functions and classes keeping their names, is 4.1 MB: the blob shrinks to 21 MB. It is the same
// compiler, the same version, run as typescript.js (its library files are found beside it); only
// its stack frames read differently (they name the copy, at its own line and column).
//
// The copy is used only while it was made from the typescript.js installed now (the manifest
// records its size and SHA-256); otherwise the snapshot holds typescript.js itself.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The copy and its manifest, in this file's compiled folder. */
export const COMPACT_SOURCE = 'typescript.compact.js';
export const COMPACT_MANIFEST = 'typescript.compact.json';

export interface CompactManifest {
  /** typescript.js's version, as its package.json gives it. */
  version: string;
  /** The minifier and its options (the build makes the copy again when they change). */
  madeWith: string;
  /** The typescript.js the copy was made from. */
  sourceSize: number;
  sourceSha256: string;
}

export function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The compact copy of `typescriptFile` in `dir`, or null where there is none made from it. */
export function compactCopyOf(typescriptFile: string, dir: string): string | null {
  const copy = path.join(dir, COMPACT_SOURCE);
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, COMPACT_MANIFEST), 'utf8')) as CompactManifest;
    if (fs.statSync(typescriptFile).size !== manifest.sourceSize || !fs.existsSync(copy)) return null;
    return sha256Of(typescriptFile) === manifest.sourceSha256 ? copy : null;
  } catch {
    return null;
  }
}
