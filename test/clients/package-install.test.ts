// tsgpu installed the way users install it: `npm pack`, the tarball installed globally into a
// throwaway prefix, `tsgpu install` into a throwaway Jupyter data dir, then every tutorial that the
// package ships run with `tsgpu run` from a folder outside the checkout. What this catches: a file
// the kernel reads at run time that `files` in package.json leaves out, and tests, benches or
// sources that it lets in.
//
// The global install is offline-safe: the package ships npm-shrinkwrap.json (the repository's
// lockfile), so npm resolves every dependency to the exact tarball `npm ci` already put in its
// cache, and --prefer-offline takes it from there without asking the registry for anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { assertExecutedNotebook, assertValidNotebook, describeRun, notebookFiles, runCommand, TUTORIALS } from './e2e-helpers';
import { CLI, isolatedJupyterDirs, processesMentioning, ROOT } from './notebook-server';

const NPM_TIMEOUT_MS = 180_000;
/** One notebook, start to end, on lavapipe with two shared cores (a cold shader cache is slow). */
const NOTEBOOK_TIMEOUT_MS = 300_000;
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let jupyter: ReturnType<typeof isolatedJupyterDirs> | undefined;
let tarball = '';
let prefix = '';
let installed = '';
let workDir = '';

function env(): NodeJS.ProcessEnv {
  assert.ok(jupyter !== undefined, 'the isolated Jupyter environment was not made');
  // The start-up snapshot `tsgpu install` builds goes with the throwaway prefix, not into the user's cache.
  const result: NodeJS.ProcessEnv = {
    ...jupyter.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${jupyter.env['PATH'] ?? ''}`, TSGPU_CACHE_DIR: path.join(jupyter.tmp, 'cache'),
  };
  // Nothing may reach the checkout's node_modules: the installed package must stand alone.
  delete result['NODE_PATH'];
  return result;
}

before(() => {
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
  jupyter = isolatedJupyterDirs('package-install');
  prefix = path.join(jupyter.tmp, 'prefix');
  installed = path.join(prefix, 'lib', 'node_modules', 'tsgpu');
  workDir = path.join(jupyter.tmp, 'notebooks');
  assert.ok(path.relative(ROOT, jupyter.tmp).startsWith('..'), `${jupyter.tmp} must lie outside the checkout ${ROOT}`);
  // --ignore-scripts: prepack would rebuild dist/ under the running suite; the suite built it already.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', jupyter.tmp],
    { cwd: ROOT, env: jupyter.env, encoding: 'utf8', timeout: NPM_TIMEOUT_MS });
  assert.equal(pack.status, 0, `npm pack failed:\n${pack.stdout}\n${pack.stderr}`);
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string }>;
  assert.ok(packed !== undefined, `npm pack --json said nothing about its tarball:\n${pack.stdout}`);
  tarball = path.join(jupyter.tmp, packed.filename);
  assert.ok(fs.existsSync(tarball), `npm pack wrote no ${tarball}`);
});

after(() => {
  if (jupyter === undefined) return;
  const leftovers = processesMentioning(jupyter.tmp);
  for (const pid of leftovers) process.kill(pid, 'SIGKILL');
  // A process just killed may still be closing files in the folder: one found non-empty is retried.
  fs.rmSync(jupyter.tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  assert.deepEqual(leftovers, [], 'kernels were left running');
});

test('the tarball holds the compiled kernel, its types, logos and tutorials, and no tests, benches, sources or source maps', () => {
  const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  assert.equal(list.status, 0, `tar -tzf ${tarball}: ${list.stderr}`);
  const files = new Set(list.stdout.split('\n').filter(Boolean).map((name) => name.replace(/^package\//, '')));
  const needed = ['package.json', 'README.md', 'npm-shrinkwrap.json', 'dist/kernel/cli/main.js', 'dist/kernel/server/worker.js', 'dist/magics/device.js',
    // The compiler's compact copy and its manifest (kernel/startup/compact-typescript.ts), which the start-up snapshot holds.
    'dist/kernel/startup/typescript.compact.js', 'dist/kernel/startup/typescript.compact.json',
    'kernel/types/globals.d.ts', 'kernel/types/tensors.d.ts', 'kernel/cli/assets/logo-64x64.png',
    ...notebookFiles().map((file) => `notebooks/${path.basename(file)}`)];
  assert.deepEqual(needed.filter((file) => !files.has(file)), [], 'files the installed kernel needs are missing from the tarball');
  // Every compiled runtime module goes in: the kernel loads some of them lazily.
  const built = ['kernel', 'magics'].flatMap((dir) => fs.readdirSync(path.join(ROOT, 'dist', dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js')).map((file) => `dist/${dir}/${file.split(path.sep).join('/')}`));
  assert.deepEqual(built.filter((file) => !files.has(file)), [], 'compiled modules missing from the tarball');
  const unwanted = [...files].filter((file) => /^(dist\/)?(test|bench)\//.test(file) || file.endsWith('.map') ||
    (file.endsWith('.ts') && !file.endsWith('.d.ts')) || file.startsWith('scripts/') || file.startsWith('.ci/'));
  assert.deepEqual(unwanted, [], 'the tarball carries files no user needs');
});

test(`npm i -g --prefix TMP tarball: a tsgpu command that says ${VERSION}`, { timeout: NPM_TIMEOUT_MS + 30_000 }, async (t) => {
  const result = await runCommand('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
    { env: env(), cwd: jupyter?.tmp ?? ROOT, timeoutMs: NPM_TIMEOUT_MS });
  assert.equal(result.code, 0, `npm i -g ${tarball} failed: ${describeRun(result)}`);
  assert.ok(fs.existsSync(path.join(installed, 'package.json')), `the package is not in ${installed}`);
  assert.ok(!fs.lstatSync(installed).isSymbolicLink(), 'the global install is a copy, not a link into the checkout');
  const version = await runCommand('tsgpu', ['--version'], { env: env(), cwd: workDir, timeoutMs: 60_000 });
  assert.equal(version.code, 0, `tsgpu --version: ${describeRun(version)}`);
  assert.match(version.stdout, new RegExp(`\\b${VERSION.replace(/\./g, '\\.')}\\b`), `tsgpu --version names ${VERSION}: ${describeRun(version)}`);
  t.diagnostic(`npm i -g: ${(result.ms / 1000).toFixed(1)} s`);
});

test('tsgpu install (into JUPYTER_DATA_DIR): a kernelspec that starts the installed package, which Jupyter lists', { timeout: 90_000 }, async () => {
  const result = await runCommand('tsgpu', ['install'], { env: env(), cwd: workDir, timeoutMs: 60_000 });
  assert.equal(result.code, 0, `tsgpu install: ${describeRun(result)}`);
  const specDir = path.join(env()['JUPYTER_DATA_DIR'] as string, 'kernels', 'tsgpu');
  const spec = JSON.parse(fs.readFileSync(path.join(specDir, 'kernel.json'), 'utf8')) as { argv: string[] };
  assert.ok(spec.argv.includes(path.join(installed, 'dist', 'kernel', 'cli', 'main.js')), `the kernelspec runs the installed package, not the checkout: ${JSON.stringify(spec.argv)}`);
  const list = await runCommand('/usr/bin/jupyter', ['kernelspec', 'list', '--json'], { env: env(), cwd: workDir, timeoutMs: 60_000 });
  assert.equal(list.code, 0, `jupyter kernelspec list: ${describeRun(list)}`);
  const specs = (JSON.parse(list.stdout) as { kernelspecs: Record<string, { resource_dir: string }> }).kernelspecs;
  assert.equal(specs['tsgpu']?.resource_dir, specDir, 'Jupyter finds the tsgpu kernelspec where tsgpu install put it');
});

for (const name of TUTORIALS) {
  test(`tsgpu run ${name} from the installed package, outside the checkout: exit 0, reports`, { timeout: NOTEBOOK_TIMEOUT_MS + 30_000 }, async (t) => {
    const shipped = path.join(installed, 'notebooks', name);
    assert.ok(fs.existsSync(shipped), `the package ships no notebooks/${name}`);
    const input = path.join(workDir, name);
    fs.copyFileSync(shipped, input);
    const out = path.join(workDir, name.replace(/\.ipynb$/, '.out.ipynb'));
    const result = await runCommand('tsgpu', ['run', name, '-o', out], { env: env(), cwd: workDir, timeoutMs: NOTEBOOK_TIMEOUT_MS });
    assert.equal(result.code, 0, `tsgpu run ${name} failed: ${describeRun(result)}`);
    await assertValidNotebook(out, env());
    const { reports, codeCells } = assertExecutedNotebook(out, `installed tsgpu run ${name}`);
    t.diagnostic(`${name}: ${codeCells} code cells, ${reports} reports, ${(result.ms / 1000).toFixed(1)} s`);
  });
}
