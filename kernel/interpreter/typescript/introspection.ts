// Completion, inspection and is_complete from the TypeScript language service and parser: what
// an editor asks while the user types. Positions arrive and leave in Unicode code points.
import type ts from 'typescript';
import { parseCell } from '../../../magics/parser';
import { codePointLength, utf16Index } from '../code-points';
import type { Completion, CompletenessStatus, Inspection } from '../interpreter';
import type { CellChecker } from './checker';

const COMPLETION_KINDS: Record<string, string> = {
  function: 'function', method: 'function', 'local function': 'function', constructor: 'function',
  class: 'class', 'local class': 'class', interface: 'class', type: 'class', enum: 'class',
  module: 'module', 'external module name': 'module', keyword: 'keyword', variable: 'instance',
  property: 'property', getter: 'property', setter: 'property', 'enum member': 'property',
  var: 'instance', let: 'instance', const: 'instance', 'local var': 'instance', alias: 'instance', parameter: 'param',
};

/** tfjs's own doc-site tags (`@doc {heading: 'Operations'}`): nothing a user reads. */
const HIDDEN_TAGS = new Set(['doc']);

export class Introspection {
  constructor(private readonly t: typeof ts, private readonly checker: CellChecker) {}

  complete(cell: string, cursorPos: number): Completion {
    const code = parseCell(cell).code;
    const cursor = utf16Index(code, cursorPos);
    const wordStart = cursor - (/[\w$]*$/.exec(code.slice(0, cursor))?.[0].length ?? 0);
    const prefix = code.slice(wordStart, cursor);
    const info = this.checker.completions(code, cursor);
    const entries = (info?.entries ?? [])
      .filter((entry) => entry.name.startsWith(prefix) && !entry.name.startsWith('__tsgpu'))
      .sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name));
    const start = codePointLength(code.slice(0, wordStart));
    return {
      matches: entries.map((entry) => entry.name),
      cursorStart: start,
      cursorEnd: cursorPos,
      metadata: {
        _jupyter_types_experimental: entries.map((entry) => ({
          start, end: cursorPos, text: entry.name, type: this.completionType(entry),
        })),
      },
    };
  }

  private completionType(entry: ts.CompletionEntry): string {
    const kind = entry.kind === this.t.ScriptElementKind.alias ? this.checker.earlierKind(entry.name) ?? entry.kind : entry.kind;
    return COMPLETION_KINDS[kind] ?? kind;
  }

  inspect(cell: string, cursorPos: number, detailLevel: number): Inspection {
    const t = this.t;
    const code = parseCell(cell).code;
    const cursor = utf16Index(code, cursorPos);
    // Shift-Tab is usually pressed right after a name: look at the character before the cursor too.
    const info = this.checker.quickInfo(code, cursor) ?? (cursor > 0 ? this.checker.quickInfo(code, cursor - 1) : undefined);
    // An unresolved name still gets quick info (kind ''); it is not something to show.
    if (!info || info.kind === t.ScriptElementKind.unknown) return { found: false, data: {} };
    // Names from earlier cells reach this one as imports: show what they are, not the import.
    const signature = t.displayPartsToString(info.displayParts).replace(/^\(alias\) /, '').replace(/\nimport [\w$]+$/, '');
    // tfjs declares its ops as `const matMul: typeof matMul_`; the JSDoc is on matMul_.
    const documented = info.documentation?.length ? info : this.borrowedDocumentation(code, cursor) ?? info;
    const documentation = t.displayPartsToString(documented.documentation);
    const tags = detailLevel > 0
      ? (documented.tags ?? []).filter((tag) => !HIDDEN_TAGS.has(tag.name))
        .map((tag) => `@${tag.name}${tag.text ? ` ${t.displayPartsToString(tag.text)}` : ''}`)
      : [];
    const text = [signature, documentation, ...tags].filter(Boolean).join('\n\n');
    const markdown = [`\`\`\`typescript\n${signature}\n\`\`\``, documentation, ...tags].filter(Boolean).join('\n\n');
    return { found: true, data: { 'text/plain': text, 'text/markdown': markdown } };
  }

  /**
   * The documentation of what a `const name: typeof documented` declaration points at, found
   * where the name is declared (a library's .d.ts); undefined when there is none.
   */
  private borrowedDocumentation(code: string, cursor: number): ts.QuickInfo | undefined {
    const t = this.t;
    const definitions = [...this.checker.definitions(code, cursor), ...(cursor > 0 ? this.checker.definitions(code, cursor - 1) : [])];
    for (const definition of definitions) {
      const file = this.checker.sourceFile(definition.fileName);
      if (!file) continue;
      let declaration: ts.Node | undefined = file;
      // Down to the innermost node holding the declared name.
      for (let inner: ts.Node | undefined = file; inner; ) {
        declaration = inner;
        inner = inner.getChildren(file).find((child) => child.getStart(file) <= definition.textSpan.start && definition.textSpan.start < child.getEnd());
      }
      while (declaration && !t.isVariableDeclaration(declaration)) declaration = declaration.parent;
      if (!declaration?.type || !t.isTypeQueryNode(declaration.type)) continue;
      const found = this.checker.quickInfoIn(definition.fileName, declaration.type.exprName.getStart(file));
      if (found?.documentation?.length) return found;
    }
    return undefined;
  }

  isComplete(cell: string): CompletenessStatus {
    const code = parseCell(cell).code;
    const diagnostics = this.t.transpileModule(code, { reportDiagnostics: true, compilerOptions: this.checker.syntaxOptions() }).diagnostics ?? [];
    if (diagnostics.length === 0) return { status: 'complete' };
    // Problems only at the very end ("'}' expected", an open template) mean the user is not done.
    const atEnd = diagnostics.every((diagnostic) => (diagnostic.start ?? 0) >= code.trimEnd().length
      || /^Unterminated template literal/.test(this.t.flattenDiagnosticMessageText(diagnostic.messageText, ' ')));
    if (!atEnd) return { status: 'invalid' };
    const lastLine = code.trimEnd().split('\n').at(-1) ?? '';
    const indent = /^\s*/.exec(lastLine)?.[0] ?? '';
    return { status: 'incomplete', indent: /[{([]\s*$/.test(lastLine) ? `${indent}  ` : indent };
  }
}
