// What a kernel started from a start-up snapshot finds ready (snapshot-entry.ts): the library files
// the type checker needs, parsed and bound before the snapshot was written. A plain start finds
// nothing here and parses them itself.
import type ts from 'typescript';

let warmRegistry: ts.DocumentRegistry | null = null;

/** Called by the snapshot builder once the registry holds the warmed files. */
export function setWarmRegistry(registry: ts.DocumentRegistry): void {
  warmRegistry = registry;
}

/** The registry a snapshot warmed, or null in a plain start. */
export function takeWarmRegistry(): ts.DocumentRegistry | null {
  return warmRegistry;
}
