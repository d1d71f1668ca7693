// Cursor positions on the wire count Unicode code points (protocol 5.2+); JavaScript strings
// and the TypeScript compiler count UTF-16 units. Conversions go through these two functions.

/** UTF-16 index of the code point offset `codePoints` in `text`. */
export function utf16Index(text: string, codePoints: number): number {
  let index = 0;
  for (let seen = 0; seen < codePoints && index < text.length; seen++) {
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  return index;
}

export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

