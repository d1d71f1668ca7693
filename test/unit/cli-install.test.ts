import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { displayName, installKernelspec, kernelArgv, parseInstallArgs } from '../../kernel/cli/install';
import { snapshotDir } from '../../kernel/startup/snapshot-build';

test('install options: default --user, one location at most, a safe --name', () => {
  const snapshot = process.platform !== 'win32';
  assert.deepEqual(parseInstallArgs([]), { where: { kind: 'user' }, name: 'tsgpu', snapshot });
  assert.deepEqual(parseInstallArgs(['--prefix', 'x', '--name', 'ts2']), { where: { kind: 'prefix', dir: path.resolve('x') }, name: 'ts2', snapshot });
  assert.deepEqual(parseInstallArgs(['--no-snapshot']), { where: { kind: 'user' }, name: 'tsgpu', snapshot: false });
  assert.match(parseInstallArgs(['--user', '--sys-prefix']) as string, /choose one of/);
  assert.match(parseInstallArgs(['--prefix']) as string, /--prefix needs a directory/);
  assert.match(parseInstallArgs(['--name', '../evil']) as string, /--name needs a kernel name/);
  assert.match(parseInstallArgs(['--name', 'TSGPU']) as string, /lowercase/);
  assert.match(parseInstallArgs(['--bogus']) as string, /unknown install option "--bogus"/);
});

test('the kernelspec names absolute paths that exist, the display name, language and logos', () => {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'tsgpu-install-'));
  try {
    const dir = installKernelspec({ where: { kind: 'prefix', dir: prefix }, name: 'tsgpu', snapshot: false });
    assert.equal(dir, path.join(prefix, 'share', 'jupyter', 'kernels', 'tsgpu'));
    const spec = JSON.parse(readFileSync(path.join(dir, 'kernel.json'), 'utf8')) as { argv: string[]; display_name: string; language: string; interrupt_mode: string };
    assert.equal(spec.display_name, 'TypeScript (tsgpu)');
    assert.equal(spec.language, 'typescript');
    assert.equal(spec.interrupt_mode, 'message');
    assert.deepEqual(spec.argv.slice(2), ['kernel', '{connection_file}']);
    for (const file of spec.argv.slice(0, 2)) {
      assert.ok(path.isAbsolute(file), `${file} is absolute`);
      assert.ok(existsSync(file), `${file} exists`);
    }
    for (const logo of ['logo-32x32.png', 'logo-64x64.png', 'logo-svg.svg']) assert.ok(existsSync(path.join(dir, logo)), logo);
    assert.deepEqual(readFileSync(path.join(dir, 'logo-32x32.png')).subarray(1, 4), Buffer.from('PNG'));
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

test('a kernel installed under another name shows that name, and whether it starts without the snapshot: two entries can be told apart', () => {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'tsgpu-install-'));
  try {
    const names = [['tsgpu', true], ['tsgpu-plain', false], ['tsgpu-dev', true]] as const;
    const shown = names.map(([name, snapshot]) => {
      const dir = installKernelspec({ where: { kind: 'prefix', dir: prefix }, name, snapshot });
      return (JSON.parse(readFileSync(path.join(dir, 'kernel.json'), 'utf8')) as { display_name: string }).display_name;
    });
    assert.deepEqual(shown, ['TypeScript (tsgpu)', 'TypeScript (tsgpu: tsgpu-plain, no start-up snapshot)', 'TypeScript (tsgpu: tsgpu-dev)']);
    // The default name keeps the name DESIGN.md gives, whichever way it starts.
    assert.equal(displayName('tsgpu', false), 'TypeScript (tsgpu)');
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
});

test('with the snapshot, the kernelspec starts the kernel through the launcher, which names node, the CLI and the snapshot\'s key', () => {
  const argv = kernelArgv(true);
  assert.equal(argv[0], '/bin/sh');
  assert.equal(argv[2], process.execPath);
  for (const file of argv.slice(1, 4)) assert.ok(path.isAbsolute(file) && existsSync(file), `${file} exists`);
  assert.match(argv[4]!, /^[0-9a-f]{16}$/);
  assert.equal(path.basename(snapshotDir()), `snapshot-${argv[4]}`);
  assert.equal(argv[5], '{connection_file}');
  assert.match(readFileSync(argv[1]!, 'utf8'), /exec "\$node" --snapshot-blob/);
});

test('`tsgpu COMMAND --help` prints that command\'s usage and exits 0; an unknown option still fails with the usage', () => {
  const cli = path.resolve(__dirname, '../../kernel/cli/main.js');
  for (const command of ['install', 'run', 'snapshot', 'devices', 'kernel']) {
    for (const flag of ['--help', '-h']) {
      const ran = spawnSync(process.execPath, [cli, command, flag], { encoding: 'utf8' });
      assert.equal(ran.status, 0, `tsgpu ${command} ${flag}: ${ran.stderr}`);
      assert.match(ran.stdout, new RegExp(`^Usage:\\n  tsgpu ${command}\\b`), ran.stdout);
      assert.doesNotMatch(ran.stdout, new RegExp(`^  tsgpu (?!${command}\\b)`, 'm'), `only ${command}'s usage: ${ran.stdout}`);
    }
  }
  const run = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
  assert.match(run.stdout, /--allow-errors/);
  assert.match(run.stdout, /execute a notebook headless/);
  const unknown = spawnSync(process.execPath, [cli, 'run', '--bogus'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown run option "--bogus"/);
});
