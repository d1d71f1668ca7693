// Build step (npm run build): writes the compiler's compact copy that start-up snapshots hold
// (kernel/startup/compact-typescript.ts says why), from the typescript.js installed, beside the
// compiled compact-typescript.js. esbuild is a development dependency: the copy ships in the
// package, made once, not on users' machines.
import fs from 'node:fs';
import path from 'node:path';
import { transformSync } from 'esbuild';
import { COMPACT_MANIFEST, COMPACT_SOURCE, type CompactManifest, sha256Of } from '../kernel/startup/compact-typescript';

/** How the copy is made: a manifest that records another way is made again. */
const TRANSFORM = { minify: true, keepNames: true, legalComments: 'inline', target: 'node20', logLevel: 'error' } as const;
const MADE_WITH = `esbuild ${(require('esbuild/package.json') as { version: string }).version} ${JSON.stringify(TRANSFORM)}`;

const typescriptFile = require.resolve('typescript');
const outDir = path.resolve(__dirname, '..', 'kernel', 'startup');
const manifestFile = path.join(outDir, COMPACT_MANIFEST);
const manifest: CompactManifest = {
  version: (require('typescript/package.json') as { version: string }).version,
  madeWith: MADE_WITH,
  sourceSize: fs.statSync(typescriptFile).size,
  sourceSha256: sha256Of(typescriptFile),
};

function upToDate(): boolean {
  try {
    const made = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CompactManifest;
    return made.sourceSha256 === manifest.sourceSha256 && made.madeWith === MADE_WITH && fs.existsSync(path.join(outDir, COMPACT_SOURCE));
  } catch {
    return false;
  }
}

if (!upToDate()) {
  // Minified as a script, not bundled: the file stays the CommonJS module it is. Its licence
  // comment (/*! … */) stays at the top. Functions and classes keep their names (keepNames): a
  // cell that imports typescript itself prints its nodes as `NodeObject {…}`, not `bce {…}`, and
  // TypeScript's assertion messages name the test that failed. It costs 0.46 MB of the 9.1 MB saved.
  const { code } = transformSync(fs.readFileSync(typescriptFile, 'utf8'), TRANSFORM);
  fs.writeFileSync(path.join(outDir, COMPACT_SOURCE), code);
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
}
