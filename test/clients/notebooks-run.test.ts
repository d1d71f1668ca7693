// Every tutorial notebook in notebooks/ executed headless, twice: by `tsgpu run` (the kernel over
// ZeroMQ, driven by tsgpu's own runner) and by Debian's nbconvert/nbclient against the installed
// kernelspec (what CI pipelines and papermill-style runs use). Each executed notebook must be a
// valid nbformat 4.5 notebook with an execution_count on every code cell, errors only in the cells
// tagged raises-exception, and the inline device report. Also: an untagged failing cell makes
// `tsgpu run` exit 1 and name the cell and line.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import {
  assertExecutedNotebook, assertValidNotebook, describeRun, notebookFiles, readNotebookJson, runCommand, stripAnsi, TUTORIALS,
} from './e2e-helpers';
import { CLI, isolatedJupyter, processesMentioning, PYTHON } from './notebook-server';

const JUPYTER = '/usr/bin/jupyter';
/** One notebook, start to end, on lavapipe with two shared cores (a cold shader cache is slow). */
const NOTEBOOK_TIMEOUT_MS = 300_000;

let jupyter: ReturnType<typeof isolatedJupyter> | undefined;
let outDir = '';

before(() => {
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(JUPYTER), `${JUPYTER} is missing: run scripts/install-system-deps.sh`);
  assert.ok(fs.existsSync(CLI), `${CLI} is missing: run npm run build`);
  jupyter = isolatedJupyter('notebooks-run');
  outDir = path.join(jupyter.tmp, 'out');
  fs.mkdirSync(outDir);
});

after(() => {
  if (jupyter === undefined) return;
  // Kernels started by nbconvert have their connection files in the isolated runtime dir.
  const leftovers = processesMentioning(path.join(jupyter.tmp, 'runtime'));
  for (const pid of leftovers) process.kill(pid, 'SIGKILL');
  fs.rmSync(jupyter.tmp, { recursive: true, force: true });
  assert.deepEqual(leftovers, [], 'kernels were left running');
});

function env(): NodeJS.ProcessEnv {
  assert.ok(jupyter !== undefined, 'the isolated Jupyter environment was not made');
  return jupyter.env;
}

test('notebooks/ holds the tutorials', () => {
  const names = notebookFiles().map((file) => path.basename(file));
  for (const name of TUTORIALS) assert.ok(names.includes(name), `notebooks/${name} is missing (found ${names.join(', ') || 'none'})`);
});

for (const file of notebookFiles()) {
  const name = path.basename(file, '.ipynb');

  test(`tsgpu run ${name}.ipynb -o OUT: exit 0, a valid executed notebook with reports`, { timeout: NOTEBOOK_TIMEOUT_MS + 30_000 }, async (t) => {
    const out = path.join(outDir, `${name}.tsgpu-run.ipynb`);
    const result = await runCommand(process.execPath, [CLI, 'run', file, '-o', out], { env: env(), timeoutMs: NOTEBOOK_TIMEOUT_MS });
    assert.equal(result.code, 0, `tsgpu run ${name}.ipynb failed: ${describeRun(result)}`);
    assert.ok(fs.existsSync(out), `tsgpu run wrote no ${out}: ${describeRun(result)}`);
    await assertValidNotebook(out, env());
    const { reports, codeCells } = assertExecutedNotebook(out, `tsgpu run ${name}`);
    const source = readNotebookJson(file).cells.filter((cell) => cell.cell_type === 'code').length;
    assert.equal(codeCells, source, 'the executed notebook has the same code cells');
    t.diagnostic(`${name}: ${codeCells} code cells, ${reports} reports, ${(result.ms / 1000).toFixed(1)} s`);
  });

  test(`jupyter nbconvert --execute ${name}.ipynb with the tsgpu kernelspec: exit 0, a valid executed notebook with reports`,
    { timeout: NOTEBOOK_TIMEOUT_MS + 30_000 }, async (t) => {
      const base = `${name}.nbconvert`;
      const result = await runCommand(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute',
        '--ExecutePreprocessor.timeout=300', '--ExecutePreprocessor.kernel_name=tsgpu', '--ExecutePreprocessor.startup_timeout=120',
        '--output-dir', outDir, '--output', base, file], { env: env(), timeoutMs: NOTEBOOK_TIMEOUT_MS });
      assert.equal(result.code, 0, `nbconvert --execute ${name}.ipynb failed: ${describeRun(result)}`);
      const out = path.join(outDir, `${base}.ipynb`);
      assert.ok(fs.existsSync(out), `nbconvert wrote no ${out}: ${describeRun(result)}`);
      await assertValidNotebook(out, env());
      const executed = readNotebookJson(out);
      const kernelspec = executed.metadata['kernelspec'] as { name?: unknown } | undefined;
      assert.equal(kernelspec?.name, 'tsgpu', 'the executed notebook names the tsgpu kernelspec');
      const languageInfo = executed.metadata['language_info'] as { name?: unknown } | undefined;
      assert.equal(languageInfo?.name, 'typescript', 'language_info comes from the kernel\'s kernel_info_reply');
      const { reports, codeCells } = assertExecutedNotebook(out, `nbconvert ${name}`);
      t.diagnostic(`${name}: ${codeCells} code cells, ${reports} reports, ${(result.ms / 1000).toFixed(1)} s`);
    });
}

test('tsgpu run exits 1 on an untagged failing cell and names "cell 2, line L"', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-run-fail-'));
  try {
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tsgpu', display_name: 'TypeScript (tsgpu)', language: 'typescript' } },
      cells: [
        { id: 'ok-cell', cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['const base: number = 40;\n', 'base + 2'] },
        {
          id: 'failing-cell', cell_type: 'code', metadata: {}, execution_count: null, outputs: [],
          source: ['const doubled = base * 2;\n', '\n', "throw new Error('broken on purpose at line 3');\n", 'doubled'],
        },
        { id: 'never-run', cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source: ['doubled + 1'] },
      ],
    };
    const input = path.join(dir, 'fails.ipynb');
    const out = path.join(dir, 'fails.out.ipynb');
    fs.writeFileSync(input, JSON.stringify(notebook, null, 1));
    const result = await runCommand(process.execPath, [CLI, 'run', input, '-o', out], { env: env(), cwd: dir, timeoutMs: 90_000 });
    assert.equal(result.code, 1, `tsgpu run should exit 1: ${describeRun(result)}`);
    const said = stripAnsi(result.stdout + result.stderr);
    assert.match(said, /cell 2, line 3\b/, `tsgpu run should name "cell 2, line 3": ${describeRun(result)}`);
    assert.match(said, /broken on purpose at line 3/, 'the error message is shown');
    // The executed notebook is still written: cell 1's result, cell 2's error, cell 3 not run.
    assert.ok(fs.existsSync(out), `tsgpu run wrote no ${out} after the failure`);
    await assertValidNotebook(out, env());
    const [first, second, third] = readNotebookJson(out).cells;
    assert.equal(first?.execution_count, 1);
    assert.ok(first?.outputs?.some((output) => output.output_type === 'execute_result'), 'cell 1 has its result');
    assert.ok(second?.outputs?.some((output) => output.output_type === 'error' && output.ename === 'Error'), 'cell 2 shows its error');
    assert.equal(third?.execution_count ?? null, null, 'the run stops at the failing cell');
    assert.deepEqual(third?.outputs ?? [], [], 'the cell after the failure has no outputs');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
