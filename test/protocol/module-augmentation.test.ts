// A cell's `declare module` block, through a real kernel: an augmentation of a file next to the
// notebook holds for later cells, and a new module's declarations come from a referenced .d.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cellError, executeReply, resultText } from '../support/exchange';
import { freshKernel } from '../support/fixtures';
import { assertTsError } from '../support/typescript';

test('an augmentation in one cell types later cells; `declare module` of a new module says to use a referenced .d.ts, which then works', async (t) => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-augment-'));
  fs.writeFileSync(path.join(cwd, 'commands.ts'), "export class Command { name = 'c'; }\n");
  fs.writeFileSync(path.join(cwd, 'shapes.d.ts'), "declare module 'shapes' { export interface Shape { sides: number } }\n");
  const kernel = await freshKernel(t, { cwd });
  const ran = async (code: string): Promise<string | undefined> => {
    const exchange = await kernel.execute(code, {}, { timeoutMs: 60_000 });
    assert.equal(executeReply(exchange).status, 'ok', `${code}\n${JSON.stringify(exchange.iopub)}`);
    return resultText(exchange);
  };
  assert.equal(await ran("import { Command } from './commands.ts'\ndeclare module './commands.ts' { interface Command { extra?: number } }\nconst cm = new Command(); cm.extra = 2; cm.extra"), '2');
  assert.equal(await ran('cm.extra'), '2');
  const [problem] = assertTsError(cellError(await kernel.execute('const asString: string = cm.extra;')));
  assert.equal(problem?.code, 2322);

  const invalid = cellError(await kernel.execute("declare module 'shapes' { export interface Shape { sides: number } }"));
  assert.equal(assertTsError(invalid)[0]?.code, 2664);
  assert.match(invalid.traceback.at(-1) ?? '', /^Hint: a cell is a module.*\/\/\/ <reference path="\.\/shapes\.d\.ts" \/>/);
  assert.equal(await ran("/// <reference path=\"./shapes.d.ts\" />\nimport type { Shape } from 'shapes'\nconst sq: Shape = { sides: 4 }; sq.sides"), '4');
  assert.equal(await ran("import type { Shape as S2 } from 'shapes'\nconst tri: S2 = { sides: 3 }; tri.sides + sq.sides"), '7');
});
