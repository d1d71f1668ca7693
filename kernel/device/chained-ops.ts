// `x.mul(y)`, `x.reshape(…)` and the other chained ops. tfjs-core's Node bundle leaves them out
// (the @tensorflow/tfjs union package adds them, with webgl, converter and data besides). The
// pinned tfjs-core ships each one as a small ESM file that Node cannot load (extensionless
// imports), so each file's one assignment runs here with its imports bound to core's exports.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TfCoreModule } from './tfjs';

const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*'[^']*';\s*$/gm;

export function installChainedOps(core: TfCoreModule): number {
  const directory = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist', 'public', 'chained_ops');
  const exports: Record<string, unknown> = { ...(core as unknown as Record<string, unknown>), getGlobalTensorClass: () => core.Tensor };
  let installed = 0;
  for (const file of readdirSync(directory)) {
    if (!file.endsWith('.js') || file.startsWith('register_all') || file.endsWith('_test.js')) continue;
    const source = readFileSync(path.join(directory, file), 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
    const names = [...source.matchAll(IMPORT)].flatMap((match) => match[1]!.split(',').map((name) => name.trim()).filter(Boolean));
    if (names.some((name) => !(name in exports))) continue; // an op this core does not export: leave it out
    const body = source.replace(IMPORT, '');
    // Trusted code from the pinned package, evaluated once at load.
    new Function(...names, body)(...names.map((name) => exports[name]));
    installed++;
  }
  return installed;
}
