// The GPU time's wording: earlier cells' work that ran before the cell began is never in the
// figure, and is named apart whatever else the line says (also when the cell's own time is not
// measured yet), so that no part of it is lost from the text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceUse, GpuUse } from '../../kernel/display/report/cell-report';
import { cells, gpuTimeText } from '../../kernel/display/report/wording';

function use(gpu: Partial<GpuUse>): DeviceUse {
  return {
    device: 'gpu:0', software: true, ops: 1, hostOps: 0, opMs: 0.5, spans: [], liveBytes: 0, liveBytesBefore: 0, heldOnHostBytes: 0, kernels: null, hostKernels: null,
    gpu: { ms: 0, source: 'timestamps', earlierCellsMs: 0, earlierCells: [], ranBeforeMs: 0, ranBeforeCells: [], stillBusy: false, spans: [], ...gpu },
  };
}

describe('GPU time text', () => {
  test('work of earlier cells during the cell and before it: the figure is the part during it, the rest named apart', () => {
    assert.equal(gpuTimeText(use({ ms: 866, earlierCellsMs: 866, earlierCells: [4], ranBeforeMs: 1119, ranBeforeCells: [4] })),
      '866 ms (GPU clock; 866 ms queued by cell 4; 1119 ms more, queued by cell 4, ran before this cell began)');
  });

  test('nothing of the cell\'s own measured yet: the work that ran before it is still named', () => {
    const text = gpuTimeText(use({ stillBusy: true, ranBeforeMs: 72.7, ranBeforeCells: [3] }));
    assert.match(text, /^not measured yet \(still busy at the end: its time shows with a later cell; 72\.7 ms more, queued by cell 3, ran before this cell began\)$/, text);
  });

  test('busy at the end only with earlier cells\' work (the cell queued none): its own time is known, not "not measured yet"', () => {
    const text = gpuTimeText(use({ stillBusy: true, busyWithOthers: [4] }));
    assert.doesNotMatch(text, /not measured yet/, text);
    assert.match(text, /^0\.0 µs \(GPU clock; still busy at the end with work queued by cell 4: it shows with a later cell\)$/, text);
  });

  test('no work before the cell: no such note', () => {
    assert.doesNotMatch(gpuTimeText(use({ ms: 10, earlierCellsMs: 0 })), /before this cell/);
  });
});

describe('cells named in the report text', () => {
  test('one, a few, consecutive runs, and a long list elided with its count', () => {
    assert.equal(cells([4]), 'cell 4');
    assert.equal(cells([3, 5]), 'cells 3 5');
    assert.equal(cells([5, 3, 4, 4]), 'cells 3–5');
    assert.equal(cells([3, 4, 7]), 'cells 3 4 7');
    const unreported = Array.from({ length: 296 }, (_, i) => i + 3);
    assert.equal(cells(unreported), 'cells 3–298');
    assert.equal(cells([1, 3, 4, 5, 9, 11, 13, 20, 21, 22]), 'cells 1 3–5 9 11 13 20–22');
    assert.equal(cells([1, 3, 4, 5, 9, 11, 13, 20, 21, 22, 30]), 'cells 1 3–5 9 … 20–22 30 (11 cells)');
  });
});
