// The fast way from a cell to its function body: one parse, then edits on the cell's own text.
// Type-only syntax is blanked with spaces (newlines kept), so every line, and every column
// that no insertion shifts, stays where it was; the REPL rewrite of cell-rewrite.ts is done
// as insertions. What TypeScript's own emit does for ES2022 is matched, not approximated:
// anything this file cannot do exactly (enums, namespaces, decorators, `import x = require`,
// `using`, ...) throws Unsupported and the cell goes through transpileModule instead.
// test/unit/text-emit.test.ts runs both paths over a corpus and compares them.
import type ts from 'typescript';
import { LOOP_CHECK, RUNTIME } from './cell-rewrite';

/** The cell needs transpileModule: this file cannot emit it exactly. */
export class Unsupported extends Error {}

export interface TextEmit {
  /** The cell as statements of the async function's body. */
  body: string;
  /** Offset in `body` -> offset in the cell. */
  toOriginal(offset: number): number;
}

interface Insertion { pos: number; text: string; at: number }

const isLineBreak = (char: string): boolean => char === '\n' || char === '\r' || char === '\u2028' || char === '\u2029';

export function textEmit(t: typeof ts, sourceFile: ts.SourceFile): TextEmit {
  return new Emitter(t, sourceFile).run();
}

class Emitter {
  private readonly code: string;
  private readonly chars: string[];
  /** Characters of the cell's own text replaced with spaces. */
  private readonly blanked: Uint8Array;
  private readonly insertions: Insertion[] = [];
  /** Statements (and class fields) that end where a blanked type ended them: they get a `;`. */
  private readonly terminated: ts.Node[] = [];
  private readonly K: typeof ts.SyntaxKind;
  /** The class whose members are being visited (a constructor's parameter properties land in it). */
  private owner: ts.ClassLikeDeclaration | undefined;

  constructor(private readonly t: typeof ts, private readonly file: ts.SourceFile) {
    this.code = file.text;
    this.chars = this.code.split('');
    this.blanked = new Uint8Array(this.code.length);
    this.K = t.SyntaxKind;
  }

  run(): TextEmit {
    const { t, file } = this;
    const statements = file.statements;
    const first = statements[0];
    // A cell's own prologue changes where TypeScript puts "use strict": leave that to it.
    if (first && t.isExpressionStatement(first) && t.isStringLiteral(first.expression)) throw new Unsupported('prologue');
    const valueIndex = this.lastValueIndex();
    const hoisted: string[] = [];
    statements.forEach((statement, index) => {
      if (t.isVariableStatement(statement) && !this.isDeclare(statement)) this.topLevelVariables(statement);
      else if (t.isFunctionDeclaration(statement) && statement.body && !this.isDeclare(statement)) {
        if (!statement.name) throw new Unsupported('anonymous function declaration');
        this.topLevelModifiers(statement);
        this.functionLike(statement);
        hoisted.push(`globalThis.${statement.name.text} = ${statement.name.text};`);
      } else if (t.isClassDeclaration(statement) && !this.isDeclare(statement)) {
        if (!statement.name) throw new Unsupported('anonymous class declaration');
        this.topLevelModifiers(statement);
        const classKeyword = this.skipTrivia(statement.modifiers ? statement.modifiers.end : statement.pos);
        this.insert(classKeyword, `globalThis.${statement.name.text} = `, statement.getStart(file));
        this.classLike(statement);
        this.insert(statement.end, ';', statement.end);
      } else if (t.isImportDeclaration(statement)) this.importDeclaration(statement, index === valueIndex);
      else if (t.isExportDeclaration(statement)) this.erase(statement);
      else if (t.isExportAssignment(statement)) {
        if (statement.isExportEquals) throw new Unsupported('export =');
        this.erase(statement);
      } else {
        if (index === valueIndex) {
          const start = statement.getStart(file);
          // Before the statement's own insertions at its start (`__tsgpu.` of an `import()`).
          this.insert(start, 'return ', start);
          this.visit(statement);
          if (this.breakBefore(start)) throw new Unsupported('value after a blanked line break');
        } else this.visit(statement);
      }
    });
    for (const node of this.terminated) this.terminate(node);
    // TypeScript's module transform adds "use strict" to a script; before the hoisted names, so that it is a directive.
    const strict = t.isExternalModule(file) ? '' : '"use strict";';
    if (hoisted.length > 0 || strict) this.insert(0, strict + hoisted.join(' '), 0, true);
    return this.build();
  }

  /** The statement whose value is the cell's: the last one that runs, if it is an expression (or an import, as the rewrite makes it one). */
  private lastValueIndex(): number {
    const { t } = this;
    const statements = this.file.statements;
    for (let index = statements.length - 1; index >= 0; index--) {
      const statement = statements[index]!;
      if (t.isEmptyStatement(statement) || t.isInterfaceDeclaration(statement) || t.isTypeAliasDeclaration(statement)
        || t.isExportDeclaration(statement) || t.isExportAssignment(statement) || this.isDeclare(statement)) continue;
      if (t.isImportDeclaration(statement) && statement.importClause?.isTypeOnly) continue;
      if (t.isFunctionDeclaration(statement) && !statement.body) continue;
      if (t.isExpressionStatement(statement) || t.isImportDeclaration(statement)) return index;
      return -1;
    }
    return -1;
  }

  // ---- the REPL rewrite (cell-rewrite.ts), top-level statements only ----

  private topLevelModifiers(node: ts.FunctionDeclaration | ts.ClassDeclaration | ts.VariableStatement): void {
    const { K } = this;
    for (const modifier of node.modifiers ?? []) {
      if (modifier.kind === K.ExportKeyword || modifier.kind === K.AbstractKeyword) this.blank(modifier.getStart(this.file), modifier.end);
      else if (modifier.kind === K.DefaultKeyword) throw new Unsupported('export default declaration');
      else if (modifier.kind !== K.AsyncKeyword) throw new Unsupported(`modifier ${modifier.kind}`);
    }
  }

  private topLevelVariables(statement: ts.VariableStatement): void {
    const { t, file } = this;
    this.topLevelModifiers(statement);
    const list = statement.declarationList;
    if ((list.flags & t.NodeFlags.Using) !== 0) throw new Unsupported('using');
    const isVar = (list.flags & (t.NodeFlags.Let | t.NodeFlags.Const)) === 0;
    const keyword = list.getStart(file);
    this.blank(keyword, this.identifierEnd(keyword));
    let previous: ts.VariableDeclaration | undefined;
    for (const declaration of list.declarations) {
      if (previous) {
        const comma = this.skipTrivia(previous.end);
        if (this.code[comma] !== ',') throw new Unsupported('declaration list');
        this.chars[comma] = ';';
      }
      previous = declaration;
      const name = declaration.name;
      this.eraseRange(name.end, declaration.type?.end ?? declaration.exclamationToken?.end ?? name.end);
      if (t.isIdentifier(name)) {
        const at = name.getStart(file);
        this.insert(at, 'globalThis.', at);
        if (!declaration.initializer) this.insert(name.end, isVar ? ` = globalThis.${name.text}` : ' = undefined', at);
      } else {
        if (!declaration.initializer) throw new Unsupported('pattern without initializer');
        const at = name.getStart(file);
        // The `;` keeps the parenthesis from calling whatever the line before ends with
        // (`const o = {}` / `const { a } = o` would read `{}(...)`).
        this.insert(at, ';(', at);
        this.pattern(name);
      }
      if (declaration.initializer) this.visit(declaration.initializer);
      if (!t.isIdentifier(name) && declaration.initializer) {
        // Closed after the initializer's last character kept: a blanked `as T`, `satisfies T` or
        // `!` at its end is where the statement's `;` may go (terminate), outside the parentheses.
        const start = declaration.initializer.getStart(file);
        let end = declaration.initializer.end;
        while (end > start && (this.blanked[end - 1] || /\s/.test(this.code[end - 1]!))) end--;
        this.insert(end, ')', declaration.initializer.end);
      }
    }
    this.terminated.push(statement);
  }

  /** A binding pattern made the assignment pattern whose targets are globals. */
  private pattern(pattern: ts.BindingPattern): void {
    const { t, file } = this;
    for (const element of pattern.elements) {
      if (t.isOmittedExpression(element)) continue;
      const name = element.name;
      if (t.isIdentifier(name)) {
        const at = name.getStart(file);
        const shorthand = t.isObjectBindingPattern(pattern) && !element.propertyName && !element.dotDotDotToken;
        this.insert(at, shorthand ? `${name.text}: globalThis.` : 'globalThis.', at);
      } else this.pattern(name);
      if (element.propertyName) this.visit(element.propertyName);
      if (element.initializer) this.visit(element.initializer);
    }
  }

  private importDeclaration(statement: ts.ImportDeclaration, isValue: boolean): void {
    const { t, file } = this;
    const clause = statement.importClause;
    if (clause?.isTypeOnly) return this.erase(statement);
    if (statement.attributes) throw new Unsupported('import attributes');
    if (clause && (clause as { phaseModifier?: unknown }).phaseModifier) throw new Unsupported('import phase');
    const specifier = statement.moduleSpecifier.getText(file);
    const load = `await ${RUNTIME}.import(${specifier})`;
    let call = load;
    if (clause) {
      const bindings: string[] = [];
      if (clause.name) bindings.push(`["${clause.name.text}", "default"]`);
      const named = clause.namedBindings;
      if (named && t.isNamespaceImport(named)) bindings.push(`["${named.name.text}", "*"]`);
      if (named && t.isNamedImports(named)) {
        for (const element of named.elements) {
          if (element.isTypeOnly) continue;
          const imported = element.propertyName ?? element.name;
          if (!t.isIdentifier(imported)) throw new Unsupported('string import name');
          bindings.push(`["${element.name.text}", "${imported.text}"]`);
        }
      }
      call = `${RUNTIME}.bindImports(${load}, [${bindings.join(', ')}])`;
    }
    const start = statement.getStart(file);
    this.blank(start, statement.end);
    this.insert(start, `${isValue ? 'return ' : ''}${call};`, start);
  }

  // ---- type erasure, anywhere ----

  private visit = (node: ts.Node): void => {
    const { t, K } = this;
    switch (node.kind) {
      case K.InterfaceDeclaration: case K.TypeAliasDeclaration: case K.IndexSignature:
        return this.erase(node);
      case K.EnumDeclaration: case K.ModuleDeclaration: case K.ImportEqualsDeclaration: case K.Decorator:
      case K.JsxElement: case K.JsxSelfClosingElement: case K.JsxFragment: case K.MetaProperty:
        if (this.isDeclare(node)) return this.erase(node);
        throw new Unsupported(`kind ${node.kind}`);
      case K.VariableStatement:
        if (this.isDeclare(node)) return this.erase(node);
        if (((node as ts.VariableStatement).declarationList.flags & t.NodeFlags.Using) !== 0) throw new Unsupported('using');
        this.noModifiers(node);
        this.terminated.push(node);
        return this.visit((node as ts.VariableStatement).declarationList);
      case K.VariableDeclarationList:
        if ((node.flags & t.NodeFlags.Using) !== 0) throw new Unsupported('using');
        return t.forEachChild(node, this.visit) as void;
      case K.VariableDeclaration: {
        const declaration = node as ts.VariableDeclaration;
        this.eraseRange(declaration.name.end, declaration.type?.end ?? declaration.exclamationToken?.end ?? declaration.name.end);
        this.visit(declaration.name);
        if (declaration.initializer) this.visit(declaration.initializer);
        return;
      }
      case K.FunctionDeclaration: case K.MethodDeclaration: case K.Constructor: case K.GetAccessor: case K.SetAccessor:
      case K.FunctionExpression: case K.ArrowFunction:
        if (this.isDeclare(node) || !(node as ts.FunctionLikeDeclaration).body || this.hasModifier(node, K.AbstractKeyword)) return this.erase(node);
        return this.functionLike(node as ts.FunctionLikeDeclaration);
      case K.ClassDeclaration: case K.ClassExpression:
        if (this.isDeclare(node)) return this.erase(node);
        for (const modifier of (node as ts.ClassLikeDeclaration).modifiers ?? []) {
          if (modifier.kind === K.AbstractKeyword) this.blank(modifier.getStart(this.file), modifier.end);
          else throw new Unsupported(`class modifier ${modifier.kind}`);
        }
        return this.classLike(node as ts.ClassLikeDeclaration);
      case K.ExpressionStatement: case K.ReturnStatement: case K.ThrowStatement:
        this.terminated.push(node);
        return t.forEachChild(node, this.visit) as void;
      case K.AsExpression: case K.SatisfiesExpression: case K.NonNullExpression: {
        const expression = (node as ts.AsExpression).expression;
        this.visit(expression);
        return this.eraseRange(expression.end, node.end);
      }
      case K.TypeAssertionExpression: {
        const expression = (node as ts.TypeAssertion).expression;
        const start = node.getStart(this.file);
        const end = expression.getStart(this.file);
        if (/[\n\r\u2028\u2029]/.test(this.code.slice(start, end))) throw new Unsupported('type assertion across lines');
        // Blanked, `<T>` in front of these would leave `=> { a: 1 }` (a block: the arrow returns
        // undefined) or a statement starting `function f` (a declaration): TypeScript's emit parenthesises.
        if (/^(?:\{|(?:function|class|async|let)(?![\w$]))/.test(this.code.slice(end))) throw new Unsupported('type assertion of a literal a statement or body could take for its own');
        this.blank(start, end);
        return this.visit(expression);
      }
      case K.CallExpression: case K.NewExpression: case K.TaggedTemplateExpression: case K.ExpressionWithTypeArguments: {
        const call = node as ts.CallExpression;
        const callee = t.isTaggedTemplateExpression(node) ? node.tag : call.expression;
        if (callee.kind === K.ImportKeyword) {
          const at = callee.getStart(this.file);
          this.insert(at, `${RUNTIME}.`, at);
        } else this.visit(callee);
        this.eraseBracketed(call.typeArguments, false);
        if (t.isTaggedTemplateExpression(node)) return this.visit(node.template);
        for (const argument of call.arguments ?? []) this.visit(argument);
        return;
      }
      case K.ForStatement: case K.ForInStatement: case K.ForOfStatement: case K.WhileStatement: case K.DoStatement:
        this.loopCheck((node as ts.IterationStatement).statement);
        return t.forEachChild(node, this.visit) as void;
      case K.AsyncKeyword: case K.StaticKeyword:
        return;
      default:
        // (`in` is a modifier of type parameters, and also the operator.)
        if (t.isTypeNode(node) || (t.isModifier(node) && node.kind !== K.InKeyword) || node.kind === K.Parameter || node.kind === K.TypeParameter
          || node.kind === K.HeritageClause || node.kind === K.PropertyDeclaration || node.kind === K.ImportDeclaration
          || node.kind === K.ExportDeclaration || node.kind === K.ExportAssignment || node.kind === K.ClassStaticBlockDeclaration
          || node.kind === K.SemicolonClassElement || node.kind === K.ImportKeyword) {
          throw new Unsupported(`kind ${node.kind} out of place`);
        }
        return t.forEachChild(node, this.visit) as void;
    }
  };

  private functionLike(node: ts.FunctionLikeDeclaration): void {
    const { t, K, file } = this;
    for (const modifier of node.modifiers ?? []) {
      if (modifier.kind === K.AsyncKeyword || modifier.kind === K.StaticKeyword) continue;
      if (t.isFunctionDeclaration(node) && modifier.kind === K.ExportKeyword) continue; // blanked by the top level
      if (modifier.kind === K.PublicKeyword || modifier.kind === K.PrivateKeyword || modifier.kind === K.ProtectedKeyword || modifier.kind === K.OverrideKeyword) {
        this.blank(modifier.getStart(file), modifier.end);
      } else throw new Unsupported(`function modifier ${modifier.kind}`);
    }
    if (node.name) this.visit(node.name);
    if (node.questionToken) this.blank(node.questionToken.getStart(file), node.questionToken.end);
    if ((node as { exclamationToken?: ts.Node }).exclamationToken) throw new Unsupported('method !');
    this.eraseBracketed(node.typeParameters, t.isArrowFunction(node));
    const isArrow = t.isArrowFunction(node);
    const params = node.parameters;
    params.forEach((param, index) => {
      if (index === 0 && t.isIdentifier(param.name) && param.name.escapedText === 'this') {
        const next = params[1];
        let end = next ? next.getStart(file) : param.end;
        if (!next && this.code[this.skipTrivia(end)] === ',') end = this.skipTrivia(end) + 1;
        this.blank(param.getStart(file), end);
        return;
      }
      for (const modifier of param.modifiers ?? []) {
        if (!t.isConstructorDeclaration(node) || t.isDecorator(modifier)) throw new Unsupported('parameter modifier');
        this.blank(modifier.getStart(file), modifier.end);
      }
      this.eraseRange(param.name.end, param.type?.end ?? param.questionToken?.end ?? param.name.end);
      this.visit(param.name);
      if (param.initializer) this.visit(param.initializer);
    });
    if (node.type) {
      const close = this.skipTrivia(params.end);
      if (this.code[close] !== ')') throw new Unsupported('return type without (');
      const start = close + 1;
      if (isArrow && /[\n\r\u2028\u2029]/.test(this.code.slice(start, node.type.end))) throw new Unsupported('arrow return type across lines');
      this.eraseRange(start, node.type.end);
    }
    if (t.isConstructorDeclaration(node)) this.parameterProperties(node);
    if (node.body && t.isBlock(node.body) && this.hasModifier(node, K.AsyncKeyword)) this.entryCheck(node.body);
    if (node.body) this.visit(node.body);
  }

  /** An async function's body starts with the runtime's interrupt check (cell-rewrite.ts loopChecks), after its prologue. */
  private entryCheck(body: ts.Block): void {
    let count = 0;
    while (count < body.statements.length && this.isPrologue(body.statements[count]!)) count++;
    const prologue = count > 0 ? body.statements[count - 1] : undefined;
    const at = prologue ? prologue.end : body.getStart(this.file) + 1;
    this.insert(at, prologue && this.code[prologue.end - 1] !== ';' ? `;${LOOP_CHECK}` : LOOP_CHECK, body.getStart(this.file));
  }

  /**
   * `constructor(private x: T)` as TypeScript emits it for ES2022 (fields defined): a field `x;`
   * first in the class, and `this.x = x;` first in the body (after the prologue, after `super(...)`).
   */
  private parameterProperties(node: ts.ConstructorDeclaration): void {
    const { t, file } = this;
    // Each maps back to its parameter, as transpileModule's map has it.
    const names: { name: string; at: number }[] = [];
    for (const param of node.parameters) {
      if (!param.modifiers?.length) continue;
      if (!t.isIdentifier(param.name)) throw new Unsupported('parameter property pattern');
      names.push({ name: param.name.text, at: param.name.getStart(file) });
    }
    if (names.length === 0) return;
    const owner = this.owner;
    const body = node.body;
    if (!owner || !body) throw new Unsupported('parameter property without class');
    for (const member of owner.members) {
      if (member.name && t.isIdentifier(member.name) && names.some(({ name }) => name === (member.name as ts.Identifier).text)) throw new Unsupported('parameter property shadows a member');
    }
    const open = owner.members.pos;
    if (this.code[open - 1] !== '{') throw new Unsupported('class body');
    for (const { name, at } of names) this.insert(open, ` ${name};`, at);
    let index = 0;
    while (index < body.statements.length && this.isPrologue(body.statements[index]!)) index++;
    const derived = owner.heritageClauses?.some((clause) => clause.token === t.SyntaxKind.ExtendsKeyword);
    if (derived) {
      const statement = body.statements[index];
      if (!statement || !t.isExpressionStatement(statement) || !t.isCallExpression(statement.expression)
        || statement.expression.expression.kind !== t.SyntaxKind.SuperKeyword) throw new Unsupported('super() not first');
      index++;
    }
    const before = body.statements[index - 1];
    const pos = before ? before.end : body.statements.pos;
    if (!before && this.code[pos - 1] !== '{') throw new Unsupported('constructor body');
    const lead = before && this.code[before.end - 1] !== ';' ? ';' : '';
    if (lead) this.insert(pos, lead, pos);
    for (const { name, at } of names) this.insert(pos, ` this.${name} = ${name};`, at);
  }

  private isPrologue(statement: ts.Statement): boolean {
    return this.t.isExpressionStatement(statement) && this.t.isStringLiteral(statement.expression);
  }

  private classLike(node: ts.ClassLikeDeclaration): void {
    const { t, K, file } = this;
    if (node.name) this.visit(node.name);
    this.eraseBracketed(node.typeParameters, false);
    for (const clause of node.heritageClauses ?? []) {
      if (clause.token === K.ImplementsKeyword) this.blank(clause.getStart(file), clause.end);
      else for (const type of clause.types) {
        this.visit(type.expression);
        this.eraseBracketed(type.typeArguments, false);
      }
    }
    for (const member of node.members) {
      if (t.isPropertyDeclaration(member)) this.property(member);
      else if (t.isClassStaticBlockDeclaration(member)) this.visit(member.body);
      else if (t.isSemicolonClassElement(member)) continue;
      else if (t.isIndexSignatureDeclaration(member)) this.erase(member);
      else if (t.isMethodDeclaration(member) || t.isConstructorDeclaration(member) || t.isGetAccessorDeclaration(member) || t.isSetAccessorDeclaration(member)) {
        if (member.modifiers?.some((m) => t.isDecorator(m))) throw new Unsupported('decorator');
        const outer = this.owner;
        this.owner = t.isConstructorDeclaration(member) ? node : undefined;
        this.visit(member);
        this.owner = outer;
      } else throw new Unsupported(`member ${member.kind}`);
    }
  }

  private property(member: ts.PropertyDeclaration): void {
    const { K, file } = this;
    for (const modifier of member.modifiers ?? []) {
      if (modifier.kind === K.DeclareKeyword || modifier.kind === K.AbstractKeyword) return this.erase(member);
    }
    for (const modifier of member.modifiers ?? []) {
      switch (modifier.kind) {
        case K.StaticKeyword: break;
        case K.PublicKeyword: case K.PrivateKeyword: case K.ProtectedKeyword: case K.ReadonlyKeyword: case K.OverrideKeyword:
          this.blank(modifier.getStart(file), modifier.end);
          break;
        default: throw new Unsupported(`property modifier ${modifier.kind}`);
      }
    }
    this.visit(member.name);
    this.eraseRange(member.name.end, member.type?.end ?? member.exclamationToken?.end ?? member.questionToken?.end ?? member.name.end);
    if (member.initializer) this.visit(member.initializer);
    this.terminated.push(member);
  }

  // ---- edits ----

  private isDeclare(node: ts.Node): boolean {
    return this.hasModifier(node, this.K.DeclareKeyword);
  }

  private hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
    return this.t.canHaveModifiers(node) && (node.modifiers ?? []).some((modifier) => modifier.kind === kind);
  }

  private noModifiers(node: ts.Node): void {
    if (this.t.canHaveModifiers(node) && node.modifiers?.length) throw new Unsupported('modifier');
  }

  /** `<...>` whose list is `list` (type arguments or parameters), blanked. */
  private eraseBracketed(list: ts.NodeArray<ts.Node> | undefined, isArrow: boolean): void {
    if (!list) return;
    const open = list.pos - 1;
    if (this.code[open] !== '<') throw new Unsupported('type list');
    const close = this.skipTrivia(list.end);
    if (this.code[close] !== '>') throw new Unsupported('type list end');
    if (isArrow && /[\n\r\u2028\u2029]/.test(this.code.slice(open, close))) throw new Unsupported('arrow type parameters across lines');
    this.blank(open, close + 1);
  }

  /** A whole statement or member: blanked, with a `;` where it began so the statements around it stay apart. */
  private erase(node: ts.Node): void {
    const start = node.getStart(this.file);
    this.blank(start, node.end);
    this.chars[start] = ';';
    this.blanked[start] = 0;
  }

  /** [start, end) holds only what is erased, after trivia: blank from the first token on. */
  private eraseRange(start: number, end: number): void {
    if (end <= start) return;
    this.blank(this.skipTrivia(start), end);
  }

  private blank(start: number, end: number): void {
    for (let index = start; index < end; index++) {
      if (!isLineBreak(this.code[index]!)) {
        this.chars[index] = ' ';
        this.blanked[index] = 1;
      }
    }
  }

  /** Each iteration of a loop starts with the runtime's interrupt check (cell-rewrite.ts loopChecks). */
  private loopCheck(body: ts.Statement): void {
    const check = LOOP_CHECK;
    const start = body.getStart(this.file);
    if (this.t.isBlock(body)) {
      this.insert(start + 1, check, start);
      return;
    }
    this.insert(start, `{${check}`, start);
    this.insert(body.end, '}', start);
  }

  /** Text put before the cell's offset `pos`; it maps back to `at`. */
  private insert(pos: number, text: string, at: number, first = false): void {
    if (first) this.insertions.unshift({ pos, text, at });
    else this.insertions.push({ pos, text, at });
  }

  /** A statement a blanked type ended gets its `;` where the type began. */
  private terminate(node: ts.Node): void {
    const start = node.getStart(this.file);
    let last = node.end - 1;
    while (last >= start && (this.blanked[last] || /\s/.test(this.code[last]!))) last--;
    for (let index = last + 1; index < node.end; index++) {
      if (this.blanked[index]) {
        this.chars[index] = ';';
        this.blanked[index] = 0;
        return;
      }
    }
  }

  /** Whether a line break was blanked between `start` and the first character kept after it. */
  private breakBefore(start: number): boolean {
    for (let index = start; index < this.code.length; index++) {
      const char = this.code[index]!;
      if (!this.blanked[index] && !/\s/.test(char)) return false;
      if (isLineBreak(char)) return true;
    }
    return false;
  }

  /** The offset of the first token at or after `pos` (past spaces and comments). */
  private skipTrivia(pos: number): number {
    const code = this.code;
    let index = pos;
    while (index < code.length) {
      const char = code[index]!;
      if (/\s/.test(char)) index++;
      else if (char === '/' && code[index + 1] === '/') {
        while (index < code.length && !isLineBreak(code[index]!)) index++;
      } else if (char === '/' && code[index + 1] === '*') {
        const end = code.indexOf('*/', index + 2);
        index = end < 0 ? code.length : end + 2;
      } else break;
    }
    return index;
  }

  private identifierEnd(pos: number): number {
    let end = pos;
    while (end < this.code.length && /[A-Za-z]/.test(this.code[end]!)) end++;
    return end;
  }

  private build(): TextEmit {
    // Stable by position: insertions at one offset keep the order they were made in.
    const insertions = this.insertions.map((insertion, order) => ({ ...insertion, order }))
      .sort((a, b) => a.pos - b.pos || a.order - b.order);
    let body = '';
    let from = 0;
    // Generated start of each insertion, for the way back.
    const starts: number[] = [];
    for (const insertion of insertions) {
      body += this.chars.slice(from, insertion.pos).join('');
      from = insertion.pos;
      starts.push(body.length);
      body += insertion.text;
    }
    body += this.chars.slice(from).join('');
    const toOriginal = (offset: number): number => {
      let low = 0;
      let high = starts.length - 1;
      let found = -1;
      while (low <= high) {
        const mid = (low + high) >> 1;
        if (starts[mid]! <= offset) { found = mid; low = mid + 1; } else high = mid - 1;
      }
      if (found < 0) return offset;
      const insertion = insertions[found]!;
      const end = starts[found]! + insertion.text.length;
      return offset < end ? insertion.at : insertion.pos + (offset - end);
    };
    return { body, toOriginal };
  }
}
