// The tutorial notebooks quote the report's hints as the kernel prints them. A quote is marked in
// the prose as italic quoted text starting with the `hint: ` the report's text/plain shows:
// *"hint: 30 host→GPU moves of … at line 11 …: move the batch once, …"*, where "…" stands for
// any text (a figure that changes from run to run). Each notebook is run with `tsgpu run`, and every
// quote in it must match a hint that run printed. Other italic quotes must not read like a hint,
// so a stale quote cannot hide by losing its mark.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeRun, readNotebookJson, runCommand, sourceOf, tutorial, TUTORIALS } from './e2e-helpers';
import { CLI } from './notebook-server';

const TIMEOUT_MS = 300_000;
const QUOTE = /\*"([^"]+)"\*/g;
/** Words only a hint uses: an unmarked italic quote with one of them is a hint quote that lost its mark. */
const HINT_WORDS = /host→GPU|GPU→host|device policy|auto policy|readback|software GPU/;

const flat = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** A quote as a pattern: "…" is any text, and the hint's closing period may be left out. */
function quotePattern(quote: string): RegExp {
  const parts = flat(quote).replace(/\.$/, '').split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*?')}\\.?$`);
}

for (const name of TUTORIALS) {
  test(`${name}: every hint the prose quotes is one the kernel prints when the notebook runs`, { timeout: TIMEOUT_MS + 30_000 }, async (t) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgpu-quotes-'));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const out = path.join(tmp, name);
    const result = await runCommand(process.execPath, [CLI, 'run', tutorial(name), '-o', out], { timeoutMs: TIMEOUT_MS });
    assert.equal(result.code, 0, describeRun(result));
    const cells = readNotebookJson(out).cells;
    const printed = cells.flatMap((cell) => (cell.outputs ?? []).flatMap((output) => {
      const report = output.metadata?.['tsgpu'] as { hints?: string[] } | undefined;
      return report?.hints ?? [];
    })).map(flat);
    const quotes = cells.filter((cell) => cell.cell_type === 'markdown').flatMap((cell) => [...sourceOf(cell).matchAll(QUOTE)].map((match) => match[1]!));
    const hintQuotes = quotes.filter((quote) => quote.startsWith('hint: ')).map((quote) => quote.slice('hint: '.length));
    for (const quote of quotes.filter((text) => !text.startsWith('hint: '))) {
      assert.doesNotMatch(quote, HINT_WORDS, `an italic quote that reads like a hint is not marked *"hint: …"*: ${JSON.stringify(quote)}`);
    }
    for (const quote of hintQuotes) {
      const pattern = quotePattern(quote);
      assert.ok(printed.some((hint) => pattern.test(hint)), `the prose quotes ${JSON.stringify(flat(quote))}, which no report printed; the hints were:\n${[...new Set(printed)].join('\n')}`);
    }
    t.diagnostic(`${name}: ${hintQuotes.length} hint quotes, each printed`);
  });
}
