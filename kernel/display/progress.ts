// progress(): one display updated in place (update_display_data) while a loop or a tfjs fit runs:
// bar, step or epoch, loss when known, elapsed, ETA, and what moving data cost this epoch. Once a
// step has values (loss, metrics) or moved data, the display becomes a live chart of them.
import type { OutputEvent } from '../interpreter/interpreter';
import { type Chart, chartBundle } from './chart/chart';
import { barBundle, barPrefix, type Drawn, InPlaceDisplay } from './progress-bar';
import { bytesText, msText } from './report/format';

/** Moves so far in the session (ms: the time they took, overlapping moves once); progress shows the difference per step or epoch. */
export interface TransferTotals {
  count: number;
  bytes: number;
  /** Of `count`, moves whose time was not measured (tensors uploaded at first use): `ms` has none of theirs. */
  untimed: number;
  ms: number;
}

/** One finished step or epoch: what the chart draws. */
export interface ProgressStep {
  step: number;
  /** The values set (or the epoch's logs) when the step ended. */
  values: Record<string, number>;
  /** Moves made during the step. */
  transfers: TransferTotals;
}

interface ProgressState {
  label: string;
  done: number;
  total: number | null;
  started: number;
  /** When the bar finished or was interrupted: a last draw sent later still shows the loop's own time. */
  endedAt: number | null;
  /** What the transfers shown cover: since the bar started, or the running epoch (fit). */
  transfersScope: 'transfers' | 'this epoch';
  values: Record<string, number>;
  transfersAtStart: TransferTotals;
  transfersNow: TransferTotals;
  history: ProgressStep[];
}

/** A chart of more points than this draws every n-th step (and the last), so updates stay small. */
const MAX_CHART_STEPS = 500;
/**
 * Steps kept for the chart: past this, every other one is let go (the newest stays), so a loop of a
 * million steps keeps ~2,000, not a million (~200 B each). The chart draws at most MAX_CHART_STEPS of
 * them anyway; older stretches end up drawn more coarsely than recent ones.
 */
const MAX_KEPT_STEPS = 4 * MAX_CHART_STEPS;

function difference(now: TransferTotals, before: TransferTotals): TransferTotals {
  return { count: now.count - before.count, bytes: now.bytes - before.bytes, untimed: now.untimed - before.untimed, ms: now.ms - before.ms };
}

function chartOf(state: ProgressState, title: string): Chart | null {
  const every = Math.ceil(state.history.length / MAX_CHART_STEPS);
  const steps = state.history.filter((_step, index) => index % every === 0 || index === state.history.length - 1);
  const names = [...new Set(steps.flatMap((step) => Object.keys(step.values)))];
  // Bars of 0 ms for moves that were not timed would read as free moves: only timed ones are charted.
  const moved = steps.some((step) => step.transfers.count > step.transfers.untimed);
  if (names.length === 0 && !moved) return null;
  const panels: Chart['panels'] = [];
  if (names.length > 0) {
    panels.push({
      title, xTitle: state.label, yTitle: 'value', mark: 'line',
      series: names.map((name) => ({
        name, points: steps.filter((step) => name in step.values).map((step) => ({ x: step.step, y: step.values[name]! })),
      })),
    });
  }
  if (moved) {
    panels.push({
      title: names.length > 0 ? 'host↔GPU transfers' : title, xTitle: state.label, yTitle: 'transfer time (ms)', mark: 'bar',
      series: [{ name: 'transfer ms', points: steps.map((step) => ({ x: step.step, y: step.transfers.ms })) }],
    });
  }
  return { panels };
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** How a bar's last draw ends: still running, done, or stopped by an interrupt of its cell. */
type Ending = 'running' | 'finished' | 'interrupted';

function render(state: ProgressState, ending: Ending): Drawn {
  const finished = ending !== 'running';
  const elapsed = (state.endedAt ?? performance.now()) - state.started;
  const fraction = state.total ? Math.min(1, state.done / state.total) : null;
  const eta = fraction && fraction > 0 && !finished ? (elapsed / fraction) * (1 - fraction) : null;
  const moved = difference(state.transfersNow, state.transfersAtStart);
  const step = `${state.label} ${state.done}${state.total ? `/${state.total}` : ''}`;
  const values = Object.entries(state.values).map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toPrecision(4)}`);
  // Moves not timed (uploaded at first use) have no ms: '0.000 ms' would read as free.
  const time = moved.untimed === moved.count ? 'time not measured (uploaded at first use)'
    : `${msText(moved.ms)}${moved.untimed > 0 ? ` (+${moved.untimed} not measured)` : ''}`;
  const transfers = moved.count > 0 ? `${state.transfersScope === 'this epoch' ? 'transfers this epoch' : 'transfers'} ${moved.count}× ${bytesText(moved.bytes)} ${time}` : '';
  const timing = `${seconds(elapsed)} elapsed${eta === null ? '' : `, ETA ${seconds(eta)}`}`;
  // A loop left with `break` (or a bar ended by hand) before its count: said, not left looking unfinished.
  const early = ending === 'finished' && state.total !== null && state.done < state.total ? 'ended early' : '';
  const parts = [step, ...values, timing, transfers, ending === 'interrupted' ? 'interrupted' : early].filter(Boolean).join(' · ');
  const text = `${barPrefix(fraction)}${parts}`;
  // A chart bundle carries no HTML: JupyterLab prefers text/html to Vega-Lite, and would show the bar.
  const chart = chartOf(state, parts);
  return chart ? chartBundle(chart, text) : { data: barBundle('tsgpu-progress', fraction, text), metadata: {} };
}

export interface ProgressHandle<T> extends Iterable<T>, AsyncIterable<T> {
  /** Values shown beside the bar (`{ loss: 0.12 }`); also advances nothing. */
  set(values: Record<string, number>): void;
  /** Counts one step done (for loops that do not iterate the handle). */
  tick(steps?: number): void;
  /** Ends the bar (done automatically when an iteration finishes). */
  end(): void;
  /** Each finished step: its values and what it moved (what the chart draws). */
  readonly history: readonly ProgressStep[];
}

/** Calls `stop` when the cell running now is interrupted; returns a canceller. */
export type OnInterrupt = (stop: () => void) => () => void;

/** 0, 1, … count - 1, one at a time. */
function* countUpTo(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

export function createProgress(emit: (event: OutputEvent) => void, transferTotals: () => TransferTotals, onInterrupt: OnInterrupt = () => () => undefined) {
  /** Displays that may still hold a throttled draw: a cell's end waits for them (settled()). */
  const displays = new Set<InPlaceDisplay>();

  function start(label: string, total: number | null) {
    const state: ProgressState = {
      label, done: 0, total, started: performance.now(), endedAt: null, transfersScope: 'transfers', values: {}, transfersAtStart: transferTotals(),
      transfersNow: transferTotals(), history: [],
    };
    const display = new InPlaceDisplay(emit);
    let ended = false;
    let cancel = (): void => undefined;
    const paint = (ending: Ending): void => {
      if (ended) return; // the interrupted state stays: a fit that stops later must not repaint it as done
      if (ending !== 'running') {
        ended = true;
        state.endedAt = performance.now();
      }
      // The frame as it is now: a throttled draw sent up to 100 ms later showed an ended epoch's loss
      // beside the next epoch's moves (the counters reset by then), or an epoch number twice. The
      // history only grows (thinning makes a new array), so its first `steps` are that frame's: it
      // is copied only for a draw that is sent, not at every call (each batch of a fit).
      state.transfersNow = transferTotals();
      const frame: ProgressState = { ...state, values: { ...state.values } };
      const steps = state.history.length;
      display.draw(() => render({ ...frame, history: frame.history.slice(0, steps) }, ending), ending === 'interrupted');
      if (ended) cancel();
    };
    const draw = (finished = false): void => paint(finished ? 'finished' : 'running');
    cancel = onInterrupt(() => paint('interrupted'));
    draw();
    displays.add(display);
    let stepStart = state.transfersAtStart;
    /** Closes a step: its values and its moves go into the history the chart draws. */
    const record = (values: Record<string, number>): void => {
      const now = transferTotals();
      state.history.push({ step: state.done, values: { ...values }, transfers: difference(now, stepStart) });
      if (state.history.length > MAX_KEPT_STEPS) {
        const last = state.history.length - 1;
        state.history = state.history.filter((_step, index) => index % 2 === 0 || index === last);
      }
      stepStart = now;
    };
    return { state, draw, record };
  }

  function progress<T = number>(source: Iterable<T> | number, options: { label?: string } = {}): ProgressHandle<T> {
    // A count is walked as it goes: `progress(1e9)` made a billion-entry array before its first step.
    const items: Iterable<T> = typeof source === 'number' ? (countUpTo(Math.floor(source)) as unknown as Iterable<T>) : source;
    const length = (source as unknown as { length?: unknown }).length;
    const total = typeof source === 'number' ? Math.floor(source) : typeof length === 'number' ? length : null;
    const { state, draw, record } = start(options.label ?? 'step', total);
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      draw(true);
    };
    function* iterate(): Generator<T> {
      try {
        for (const item of items) {
          yield item;
          state.done++;
          record(state.values);
          draw();
        }
      } finally {
        end();
      }
    }
    return {
      [Symbol.iterator]: iterate,
      async *[Symbol.asyncIterator]() {
        yield* iterate();
      },
      set(values) {
        Object.assign(state.values, values);
        draw();
      },
      tick(steps = 1) {
        state.done += steps;
        record(state.values);
        draw();
      },
      end,
      get history() {
        return state.history;
      },
    };
  }

  /**
   * A tfjs callback for model.fit: one bar over epochs, with the loss and each epoch's transfers.
   * The epoch count is fit's own (from the params tfjs-layers gives its callbacks); `epochs` is the fallback.
   */
  function fit(options: { epochs?: number; label?: string } = {}) {
    let run: ReturnType<typeof start> | null = null;
    let epochStart: TransferTotals = transferTotals();
    return {
      // tfjs-layers calls a callback object's functions on its CustomCallback, whose params hold
      // fit's own epoch count: that wins over the one passed here (which may be stale or missing).
      onTrainBegin: async function onTrainBegin(this: unknown) {
        const epochs = (this as { params?: { epochs?: unknown } } | undefined)?.params?.epochs;
        run = start(options.label ?? 'epoch', typeof epochs === 'number' ? epochs : options.epochs ?? null);
        run.state.transfersScope = 'this epoch';
      },
      onEpochBegin: async () => {
        epochStart = transferTotals();
        if (run) run.state.transfersAtStart = epochStart;
      },
      // Not onBatchEnd: for a callback with onBatchEnd, tfjs-layers reads every batch's loss back
      // from the GPU (CustomCallback resolves the batch's logs), 110 readbacks instead of 10 for a
      // 5-epoch fit of 20 batches. onBatchBegin's logs are empty: the bar moves (elapsed, transfers)
      // without a readback, and the loss shown is the epoch's, which fit reads back anyway.
      onBatchBegin: async () => {
        run?.draw();
      },
      // The chart's points are the epoch's logs: fit reads them back once per epoch anyway.
      onEpochEnd: async (_epoch: number, logs?: Record<string, number>) => {
        if (!run) return;
        run.state.done++;
        const epochValues: Record<string, number> = {};
        for (const [name, value] of Object.entries(logs ?? {})) if (typeof value === 'number') epochValues[name] = value;
        Object.assign(run.state.values, epochValues);
        run.record(epochValues);
        run.draw();
      },
      onTrainEnd: async () => {
        run?.draw(true);
      },
    };
  }

  /** Resolves once every display's last draw is out (a throttled draw waits up to 100 ms). */
  async function settled(): Promise<void> {
    await Promise.all([...displays].map((display) => display.settled()));
    for (const display of displays) if (!display.pending) displays.delete(display);
  }

  return { progress: Object.assign(progress, { fit }), settled };
}
