// Units as the report prints them.
/** Binary units; %memory and %transfers print sizes with this too. */
export function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${bytes < 0 ? '-' : ''}${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function msText(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(3)} ms`;
}

export function rateText(gbPerSecond: number | null): string {
  return gbPerSecond === null ? '–' : `${gbPerSecond >= 1 ? gbPerSecond.toFixed(2) : gbPerSecond.toFixed(3)} GB/s`;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A duration down to microseconds: small moves and single ops are µs, not "0.000 ms". */
export function durationText(ms: number): string {
  return ms >= 1 ? msText(ms) : `${(ms * 1000).toFixed(ms * 1000 >= 10 ? 0 : 1)} µs`;
}
