// English for messages anywhere in the kernel (the device layer's errors, the report's hints).

/** "a and b", "a, b and c". */
export function listText(parts: readonly string[]): string {
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}` : parts[0] ?? '';
}
