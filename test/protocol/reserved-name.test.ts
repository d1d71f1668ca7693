// Every cell's emitted code refers to the kernel's runtime by one name (its loop checks, its
// imports). A cell that declares that name, or assigns it, used to fail with an error that said
// nothing useful (`Cannot read properties of undefined (reading 'pending')` from a loop, `Cannot
// assign to read only property`); it is now refused before it runs, naming the line and the way
// out, and the kernel keeps its state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, executeReply } from '../support/exchange';
import { useKernel } from '../support/fixtures';

describe('the kernel\'s runtime name in a cell', () => {
  const kernel = useKernel();

  test('declared as a variable, a parameter, assigned: refused with the line, nothing of the cell runs', async () => {
    assert.equal(await evaluate(kernel(), 'let ran = 0; ran'), '0');
    for (const [code, line] of [
      ['ran = 1;\nconst __tsgpu = 3;\nfor (let i = 0; i < 3; i++) ran += i;', 2],
      ['ran = 1;\nfunction f(__tsgpu: number) { let t = 0; for (let i = 0; i < __tsgpu; i++) t += i; return t; }\nf(4)', 2],
      ['ran = 1;\n// a comment\n(globalThis as any).x = __tsgpu = null;', 3],
    ] as const) {
      const reply = executeReply(await kernel().execute(code));
      assert.equal(reply.status, 'error', code);
      if (reply.status !== 'error') continue;
      assert.equal(reply.ename, 'ReservedName', code);
      assert.match(reply.evalue, new RegExp(`^\`__tsgpu\` \\(line ${line}\\) is the name the kernel's own code uses in every cell .*: give yours another name$`), reply.evalue);
      assert.equal(await evaluate(kernel(), 'ran'), '0', `nothing of the refused cell ran: ${code}`);
    }
  });

  test('as a property name or in a string it is no variable: the cell runs, and its loops', async () => {
    assert.equal(await evaluate(kernel(), "const o = { __tsgpu: 2 };\nlet s = 0;\nfor (let i = 0; i < 3; i++) s += o.__tsgpu;\ns + '__tsgpu'.length"), '13');
  });
});
