// Where tsgpu is installed and which versions it reports. Compiled code lives in dist/kernel/,
// so the package root is two folders up from here.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

function versionOf(packageJson: string): string {
  try {
    const parsed = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const TSGPU_VERSION = versionOf(path.join(PACKAGE_ROOT, 'package.json'));

/** Reads typescript's package.json only, never loads the compiler (it costs ~0.3 s to load). */
export function typescriptVersion(): string {
  try {
    return versionOf(require.resolve('typescript/package.json', { paths: [PACKAGE_ROOT] }));
  } catch {
    return 'unknown';
  }
}
