// Just enough of Source Map v3 to turn a generated line:column back into the cell's own
// line:column for tracebacks (one source per map, which is all a cell ever has).
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((char, index) => [char, index]));

interface Segment { generatedColumn: number; sourceLine: number; sourceColumn: number }

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = DIGIT.get(char);
    if (digit === undefined) break;
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

export class SourceMapper {
  /** Segments per generated line (0-based), each line's sorted by generated column. */
  private readonly lines: Segment[][] = [];

  constructor(mappings: string) {
    let sourceLine = 0;
    let sourceColumn = 0;
    for (const lineText of mappings.split(';')) {
      const segments: Segment[] = [];
      let generatedColumn = 0;
      for (const segmentText of lineText.split(',')) {
        if (!segmentText) continue;
        const [column = 0, , line, col] = decodeVlq(segmentText);
        generatedColumn += column;
        if (line === undefined || col === undefined) continue;
        sourceLine += line;
        sourceColumn += col;
        segments.push({ generatedColumn, sourceLine, sourceColumn });
      }
      this.lines.push(segments);
    }
  }

  /** 1-based line and column in, 1-based original line and column out (null when unmapped). */
  original(line: number, column: number): { line: number; column: number } | null {
    const segments = this.lines[line - 1];
    if (!segments || segments.length === 0) return null;
    let best = segments[0]!;
    for (const segment of segments) {
      if (segment.generatedColumn > column - 1) break;
      best = segment;
    }
    return { line: best.sourceLine + 1, column: best.sourceColumn + 1 };
  }
}
