// The compiler's compact copy, which the start-up snapshot holds in place of typescript.js.
//
// A snapshot holds every script's source text, and a process started from it reads, checks and
// copies all of it before the first line runs; a worker thread it starts deserializes the same
// heap again. typescript.js is 9 MB of the 25 MB blob. Its copy with whitespace, comments and local
// names minified (scripts/compact-typescript.ts, at build time, since the minifier is a build tool)
// is 3.6 MB: the blob shrinks by that and more, since the compiler's scopes and function
// records shrink with it. It is the same compiler, the same version, run under typescript.js's own
// file name (its library files are found beside it); only its stack frames read differently.
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
