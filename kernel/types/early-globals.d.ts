// Until Node's own declarations have loaded (they load in the background after start: see
// kernel/interpreter/typescript/checker.ts), the one Node global nearly every first cell uses.
// A cell that needs anything else of Node's waits for the real declarations and is checked again.
interface TsgpuEarlyConsole {
  log(...data: unknown[]): void;
  error(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
}
declare var console: TsgpuEarlyConsole;
