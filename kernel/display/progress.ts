// progress(): one display updated in place (update_display_data) while a loop or a tfjs fit runs:
// bar, step or epoch, loss when known, elapsed, ETA, and what moving data cost this epoch.
import type { MimeBundle, OutputEvent } from '../interpreter/interpreter';
import { barBundle, barPrefix, InPlaceDisplay } from './progress-bar';
import { bytesText, msText } from './report/format';

/** Moves so far in the session; progress shows the difference per step or epoch. */
export interface TransferTotals {
  count: number;
  bytes: number;
  ms: number;
}

interface ProgressState {
  label: string;
  done: number;
  total: number | null;
  started: number;
  values: Record<string, number>;
  transfersAtStart: TransferTotals;
  transfersNow: TransferTotals;
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** How a bar's last draw ends: still running, done, or stopped by an interrupt of its cell. */
type Ending = 'running' | 'finished' | 'interrupted';

function render(state: ProgressState, ending: Ending): MimeBundle {
  const finished = ending !== 'running';
  const elapsed = performance.now() - state.started;
  const fraction = state.total ? Math.min(1, state.done / state.total) : null;
  const eta = fraction && fraction > 0 && !finished ? (elapsed / fraction) * (1 - fraction) : null;
  const moved = {
    count: state.transfersNow.count - state.transfersAtStart.count,
    bytes: state.transfersNow.bytes - state.transfersAtStart.bytes,
    ms: state.transfersNow.ms - state.transfersAtStart.ms,
  };
  const step = `${state.label} ${state.done}${state.total ? `/${state.total}` : ''}`;
  const values = Object.entries(state.values).map(([name, value]) => `${name} ${Number.isInteger(value) ? value : value.toPrecision(4)}`);
  const transfers = moved.count > 0 ? `transfers ${moved.count}× ${bytesText(moved.bytes)} ${msText(moved.ms)}` : '';
  const timing = `${seconds(elapsed)} elapsed${eta === null ? '' : `, ETA ${seconds(eta)}`}`;
  const text = [`${barPrefix(fraction)}${step}`, ...values, timing, transfers, ending === 'interrupted' ? 'interrupted' : ''].filter(Boolean).join(' · ');
  return barBundle('tsgpu-progress', fraction, text);
}

export interface ProgressHandle<T> extends Iterable<T>, AsyncIterable<T> {
  /** Values shown beside the bar (`{ loss: 0.12 }`); also advances nothing. */
  set(values: Record<string, number>): void;
  /** Counts one step done (for loops that do not iterate the handle). */
  tick(steps?: number): void;
  /** Ends the bar (done automatically when an iteration finishes). */
  end(): void;
}

/** Calls `stop` when the cell running now is interrupted; returns a canceller. */
export type OnInterrupt = (stop: () => void) => () => void;

export function createProgress(emit: (event: OutputEvent) => void, transferTotals: () => TransferTotals, onInterrupt: OnInterrupt = () => () => undefined) {
  function start(label: string, total: number | null) {
    const state: ProgressState = {
      label, done: 0, total, started: performance.now(), values: {}, transfersAtStart: transferTotals(), transfersNow: transferTotals(),
    };
    const display = new InPlaceDisplay(emit);
    let ended = false;
    let cancel = (): void => undefined;
    const paint = (ending: Ending): void => {
      if (ended) return; // the interrupted state stays: a fit that stops later must not repaint it as done
      if (ending !== 'running') ended = true;
      display.draw(() => {
        state.transfersNow = transferTotals();
        return render(state, ending);
      }, ending !== 'running');
      if (ended) cancel();
    };
    const draw = (finished = false): void => paint(finished ? 'finished' : 'running');
    cancel = onInterrupt(() => paint('interrupted'));
    draw();
    return { state, draw };
  }

  function progress<T = number>(source: Iterable<T> | number, options: { label?: string } = {}): ProgressHandle<T> {
    const items: Iterable<T> = typeof source === 'number'
      ? (Array.from({ length: Math.max(0, Math.floor(source)) }, (_, i) => i) as unknown as Iterable<T>)
      : source;
    const length = (source as unknown as { length?: unknown }).length;
    const total = typeof source === 'number' ? Math.floor(source) : typeof length === 'number' ? length : null;
    const { state, draw } = start(options.label ?? 'step', total);
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
        draw();
      },
      end,
    };
  }

  /**
   * A tfjs callback for model.fit: one bar over epochs, with the loss and each epoch's transfers.
   * tfjs does not tell a plain callback object the epoch count: pass the same `epochs` as to fit.
   */
  function fit(options: { epochs?: number; label?: string } = {}) {
    let run: ReturnType<typeof start> | null = null;
    let epochStart: TransferTotals = transferTotals();
    return {
      onTrainBegin: async () => {
        run = start(options.label ?? 'epoch', options.epochs ?? null);
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
      onEpochEnd: async (_epoch: number, logs?: Record<string, number>) => {
        if (!run) return;
        run.state.done++;
        for (const [name, value] of Object.entries(logs ?? {})) if (typeof value === 'number') run.state.values[name] = value;
        run.draw();
      },
      onTrainEnd: async () => {
        run?.draw(true);
      },
    };
  }

  return Object.assign(progress, { fit });
}
