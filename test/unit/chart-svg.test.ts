// The SVG fallback's layout: every bar lies inside its panel's plot area (between the axes the SVG
// itself draws), and a panel title longer than its panel is cut to fit (whole in its tooltip)
// rather than running over the panel to its right.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartSvg } from '../../kernel/display/chart/chart-svg';
import type { Chart } from '../../kernel/display/chart/chart';

/** A bold 11 px sans-serif character is at most about this wide on average (0.6 em). */
const TITLE_CHAR_PX = 11 * 0.6;

function numbers(tag: string, names: string[]): number[] {
  return names.map((name) => Number(new RegExp(`\\b${name}="(-?[\\d.]+)"`).exec(tag)?.[1]));
}

test('a fit chart\'s bars lie inside the plot area and its long title stays inside its panel', () => {
  const status = 'epoch 3/3 ━━━━━━━━━━━━━━━━━━━━ 100% · loss 0.6931 · val_loss 0.6950 · 2.4 s · transfers 12× 4.50 MiB 40.3 ms · done';
  const chart: Chart = {
    panels: [
      { title: status, xTitle: 'epoch', yTitle: 'value', mark: 'line', series: [{ name: 'loss', points: [1, 2, 3].map((x) => ({ x, y: 1 / x })) }] },
      { title: 'host↔GPU transfers', xTitle: 'epoch', yTitle: 'transfer time (ms)', mark: 'bar', series: [{ name: 'transfer ms', points: [{ x: 1, y: 24.6 }, { x: 2, y: 9.9 }, { x: 3, y: 5.8 }] }] },
    ],
  };
  const svg = chartSvg(chart);
  const [width] = numbers(/<svg[^>]*>/.exec(svg)![0], ['width']);
  const panelWidth = width! / chart.panels.length;
  // Each panel's axes: the y axis is the vertical line, the x axis the horizontal one.
  const lines = [...svg.matchAll(/<line [^>]*\/>/g)].map((match) => numbers(match[0], ['x1', 'y1', 'x2', 'y2']));
  const yAxes = lines.filter(([x1, , x2]) => x1 === x2).map(([x1]) => x1!);
  const xAxes = lines.filter(([, y1, , y2]) => y1 === y2).map(([x1, , x2]) => [x1!, x2!] as const);
  assert.equal(yAxes.length, 2, 'an axis pair per panel');
  const bars = [...svg.matchAll(/<rect class="tsgpu-chart-bar"[^>]*\/>/g)].map((match) => numbers(match[0], ['x', 'width']));
  assert.equal(bars.length, 3);
  const [, plotEnd] = xAxes[1]!;
  for (const [x, barWidth] of bars) {
    assert.ok(x! >= yAxes[1]! && x! + barWidth! <= plotEnd, `bar ${x}..${x! + barWidth!} inside the plot area ${yAxes[1]}..${plotEnd}`);
  }
  const titles = [...svg.matchAll(/<text class="tsgpu-chart-title" x="([\d.]+)"[^>]*><title>([^<]*)<\/title>([^<]*)<\/text>/g)];
  assert.equal(titles.length, 2, 'a title per panel');
  titles.forEach((match, index) => {
    const x = Number(match[1]);
    const shown = [...match[3]!];
    assert.ok(x >= index * panelWidth && x + shown.length * TITLE_CHAR_PX <= (index + 1) * panelWidth,
      `panel ${index + 1}'s title (${shown.length} characters from x=${x}) stays inside ${index * panelWidth}..${(index + 1) * panelWidth}`);
  });
  assert.equal(titles[0]![2], status.replace(/&/g, '&amp;'), 'the whole status line is in the tooltip');
  assert.ok(titles[0]![3]!.endsWith('…') && status.startsWith(titles[0]![3]!.slice(0, -1)), 'the shown title is its beginning, cut');
  assert.equal(titles[1]![3], 'host↔GPU transfers', 'a short title is shown whole');
});
