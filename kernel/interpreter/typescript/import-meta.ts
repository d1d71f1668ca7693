// `import.meta` in the notebook's own modules, which run as CommonJS (runtime.ts): there it is a
// syntax error, and Node would then load the file as an ES module through a loader whose cache a
// reload cannot clear (and whose scope has no `exports` for the emitted code). Each use becomes a
// local object with what an ES module's `import.meta` gives: url, filename, dirname.
import type ts from 'typescript';

const IMPORT_META = '__tsgpuImportMeta';

/** A transformer for transpileModule that writes `import.meta` as the local object; `used` says whether it did. */
export function importMetaAsLocal(t: typeof ts): { transformer: ts.TransformerFactory<ts.SourceFile>; used: () => boolean } {
  let used = false;
  const transformer: ts.TransformerFactory<ts.SourceFile> = (context) => (file) => {
    const visit = (node: ts.Node): ts.Node => {
      if (t.isMetaProperty(node) && node.keywordToken === t.SyntaxKind.ImportKeyword) {
        used = true;
        return t.factory.createIdentifier(IMPORT_META);
      }
      return t.visitEachChild(node, visit, context);
    };
    return t.visitEachChild(file, visit, context);
  };
  return { transformer, used: () => used };
}

/** The emitted code with the local object declared on its first line (its lines stay the file's), after a "use strict" prologue. */
export function withImportMeta(code: string): string {
  const declaration = `var ${IMPORT_META} = { url: require('node:url').pathToFileURL(__filename).href, filename: __filename, dirname: __dirname }; `;
  const prologue = /^"use strict";/.exec(code)?.[0] ?? '';
  return prologue + declaration + code.slice(prologue.length);
}
