// In-memory input/output history for history_request. A kernel process is one session, and
// clients ask for "the current session" as session 0 or by its number, SESSION_NUMBER.
export const SESSION_NUMBER = 1;

export interface HistoryEntry {
  line: number;
  input: string;
  output: string | null;
}

/** One row of a history_reply: [session, line, input] or, with output, [session, line, [input, output]]. */
export type HistoryRow = [number, number, string] | [number, number, [string, string | null]];

export interface HistoryQuery {
  hist_access_type: 'tail' | 'range' | 'search';
  output: boolean;
  n?: number;
  session?: number;
  start?: number;
  stop?: number;
  pattern?: string;
  unique?: boolean;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${body}$`);
}

export class History {
  private readonly entries: HistoryEntry[] = [];

  record(line: number, input: string): void {
    this.entries.push({ line, input, output: null });
  }

  recordOutput(line: number, output: string): void {
    const entry = this.entries.findLast((candidate) => candidate.line === line);
    if (entry) entry.output = output;
  }

  query(query: HistoryQuery): HistoryRow[] {
    return this.select(query).map((entry): HistoryRow => (query.output
      ? [SESSION_NUMBER, entry.line, [entry.input, entry.output]]
      : [SESSION_NUMBER, entry.line, entry.input]));
  }

  private select(query: HistoryQuery): HistoryEntry[] {
    const n = query.n ?? 10;
    switch (query.hist_access_type) {
      case 'tail':
        return n > 0 ? this.entries.slice(-n) : [];
      case 'range': {
        // Only this process's session exists; 0 and negative numbers mean "the current one".
        const session = query.session ?? 0;
        if (session > 0 && session !== SESSION_NUMBER) return [];
        const start = query.start ?? 1;
        const stop = query.stop ?? Number.POSITIVE_INFINITY;
        return this.entries.filter((entry) => entry.line >= start && entry.line < stop);
      }
      case 'search': {
        const pattern = globToRegExp(query.pattern ?? '*');
        let found = this.entries.filter((entry) => pattern.test(entry.input));
        if (query.unique) {
          const seen = new Set<string>();
          found = found.reverse().filter((entry) => !seen.has(entry.input) && seen.add(entry.input)).reverse();
        }
        return n > 0 ? found.slice(-n) : found;
      }
    }
  }
}
