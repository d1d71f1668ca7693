// Gives a transpiled cell REPL semantics. Runs as an `after` transformer, so it sees plain
// JavaScript (enums and namespaces already lowered to `var`), and rewrites only top-level
// statements:
//   - declarations bind properties of globalThis instead of locals, so later cells, and closures
//     from earlier cells, all see one binding; re-running `const x = …` simply rebinds it;
//   - the last expression statement the user wrote becomes the cell's value.
// The result is the body of an async function (see transpile.ts), so top-level await just works.
// Imports are rewritten earlier, by importRewriter: see there.
import type ts from 'typescript';

/** The name the runtime helpers are reachable under (see runtime.ts). */
export const RUNTIME = '__tsgpu';

function runtimeCall(t: typeof ts, helper: string, args: ts.Expression[]): ts.Expression {
  const f = t.factory;
  return f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier(RUNTIME), helper), undefined, args);
}

/**
 * Imports become awaited dynamic imports (ESM-only and CommonJS packages alike) whose bindings
 * land on globalThis. A `before` transformer: TypeScript would otherwise drop an import the cell
 * does not use itself, and the next cell that does would find nothing. `import type` and
 * `{ type X }` are left for TypeScript to erase.
 */
export function importRewriter(t: typeof ts): ts.TransformerFactory<ts.SourceFile> {
  const f = t.factory;
  const rewrite = (statement: ts.ImportDeclaration): ts.Statement | undefined => {
    const clause = statement.importClause;
    if (clause?.isTypeOnly) return statement;
    const load = f.createAwaitExpression(runtimeCall(t, 'import', [statement.moduleSpecifier]));
    if (!clause) return t.setTextRange(f.createExpressionStatement(load), statement);
    // [local name, what it is bound to: 'default', '*' or the exported name]
    const bindings: [string, string][] = [];
    if (clause.name) bindings.push([clause.name.text, 'default']);
    const named = clause.namedBindings;
    if (named && t.isNamespaceImport(named)) bindings.push([named.name.text, '*']);
    if (named && t.isNamedImports(named)) {
      for (const element of named.elements) {
        if (!element.isTypeOnly) bindings.push([element.name.text, (element.propertyName ?? element.name).text]);
      }
    }
    const list = f.createArrayLiteralExpression(bindings.map(([local, imported]) => f.createArrayLiteralExpression(
      [f.createStringLiteral(local), f.createStringLiteral(imported)])));
    return t.setTextRange(f.createExpressionStatement(runtimeCall(t, 'bindImports', [load, list])), statement);
  };
  return () => (file) => f.updateSourceFile(file, file.statements.map((statement) => (
    t.isImportDeclaration(statement) ? rewrite(statement) ?? statement : statement)));
}

/**
 * The statement that starts each iteration of a cell's loops: one atomic read of the interrupt
 * line, and a call only when an interrupt is pending (cell-context.ts loopLine, loopTick).
 * text-emit.ts inserts this text; loopChecks builds the same tree.
 */
export const LOOP_CHECK = `if (${RUNTIME}.line.pending[0] !== 0) ${RUNTIME}.loop();`;

/**
 * Every loop the cell writes (for, for…in, for…of, for await, while, do) starts each iteration
 * with LOOP_CHECK, a body that is no block becoming one: a loop after the cell's first await can
 * then be interrupted. So does every async function's block body (after its prologue): an async
 * recursion (`async function spin() { await null; return spin(); }`) runs as promise jobs that
 * never give the event loop back, and neither an interrupt_request nor SIGINT stopped it.
 */
export function loopChecks(t: typeof ts): ts.TransformerFactory<ts.SourceFile> {
  const f = t.factory;
  const pending = f.createPropertyAccessExpression(f.createPropertyAccessExpression(f.createIdentifier(RUNTIME), 'line'), 'pending');
  const check = (): ts.Statement => {
    const load = f.createElementAccessExpression(pending, f.createNumericLiteral(0));
    return f.createIfStatement(f.createStrictInequality(load, f.createNumericLiteral(0)), f.createExpressionStatement(runtimeCall(t, 'loop', [])));
  };
  const checked = (body: ts.Statement): ts.Block => (t.isBlock(body) ? f.updateBlock(body, [check(), ...body.statements]) : f.createBlock([check(), body]));
  /** The function with LOOP_CHECK first in its body, after the prologue ('use strict'). */
  const withEntryCheck = (fn: ts.FunctionLikeDeclaration & { body: ts.Block }): ts.Node => {
    const statements = fn.body.statements;
    let index = 0;
    while (index < statements.length && t.isExpressionStatement(statements[index]!) && t.isStringLiteral((statements[index] as ts.ExpressionStatement).expression)) index++;
    const body = f.updateBlock(fn.body, [...statements.slice(0, index), check(), ...statements.slice(index)]);
    if (t.isFunctionDeclaration(fn)) return f.updateFunctionDeclaration(fn, fn.modifiers, fn.asteriskToken, fn.name, fn.typeParameters, fn.parameters, fn.type, body);
    if (t.isFunctionExpression(fn)) return f.updateFunctionExpression(fn, fn.modifiers, fn.asteriskToken, fn.name, fn.typeParameters, fn.parameters, fn.type, body);
    if (t.isArrowFunction(fn)) return f.updateArrowFunction(fn, fn.modifiers, fn.typeParameters, fn.parameters, fn.type, fn.equalsGreaterThanToken, body);
    if (t.isMethodDeclaration(fn)) return f.updateMethodDeclaration(fn, fn.modifiers, fn.asteriskToken, fn.name, fn.questionToken, fn.typeParameters, fn.parameters, fn.type, body);
    return fn;
  };
  return (context) => {
    const visit = (node: ts.Node): ts.Node => {
      const visited = t.visitEachChild(node, visit, context);
      if (t.isForStatement(visited)) return f.updateForStatement(visited, visited.initializer, visited.condition, visited.incrementor, checked(visited.statement));
      if (t.isForInStatement(visited)) return f.updateForInStatement(visited, visited.initializer, visited.expression, checked(visited.statement));
      if (t.isForOfStatement(visited)) return f.updateForOfStatement(visited, visited.awaitModifier, visited.initializer, visited.expression, checked(visited.statement));
      if (t.isWhileStatement(visited)) return f.updateWhileStatement(visited, visited.expression, checked(visited.statement));
      if (t.isDoStatement(visited)) return f.updateDoStatement(visited, checked(visited.statement), visited.expression);
      if (t.isFunctionLike(visited) && 'body' in visited && visited.body !== undefined && t.isBlock(visited.body)
        && (t.getModifiers(visited as ts.HasModifiers) ?? []).some((modifier) => modifier.kind === t.SyntaxKind.AsyncKeyword)) {
        return withEntryCheck(visited as ts.FunctionLikeDeclaration & { body: ts.Block });
      }
      return visited;
    };
    return (file) => t.visitEachChild(file, visit, context);
  };
}

export function cellRewriter(t: typeof ts): ts.TransformerFactory<ts.SourceFile> {
  const f = t.factory;
  const globalRef = (name: string): ts.Expression => f.createPropertyAccessExpression(f.createIdentifier('globalThis'), name);
  const assign = (target: ts.Expression, value: ts.Expression): ts.Statement => f.createExpressionStatement(f.createAssignment(target, value));

  /** A binding pattern as the equivalent assignment pattern whose targets are globals. */
  function toAssignmentTarget(name: ts.BindingName): ts.Expression {
    if (t.isIdentifier(name)) return globalRef(name.text);
    if (t.isObjectBindingPattern(name)) {
      return f.createObjectLiteralExpression(name.elements.map((element) => {
        const target = withDefault(toAssignmentTarget(element.name), element.initializer);
        if (element.dotDotDotToken) return f.createSpreadAssignment(target);
        const key = element.propertyName ?? (t.isIdentifier(element.name) ? f.createIdentifier(element.name.text) : undefined);
        if (!key) throw new Error('object binding element without a property name');
        return f.createPropertyAssignment(key, target);
      }));
    }
    return f.createArrayLiteralExpression(name.elements.map((element) => {
      if (t.isOmittedExpression(element)) return f.createOmittedExpression();
      const target = withDefault(toAssignmentTarget(element.name), element.initializer);
      return element.dotDotDotToken ? f.createSpreadElement(target) : target;
    }));
  }

  function withDefault(target: ts.Expression, initializer: ts.Expression | undefined): ts.Expression {
    return initializer ? f.createAssignment(target, initializer) : target;
  }

  function rewriteVariables(statement: ts.VariableStatement): ts.Statement[] {
    const isVar = (statement.declarationList.flags & (t.NodeFlags.Let | t.NodeFlags.Const)) === 0;
    return statement.declarationList.declarations.map((declaration) => {
      if (t.isIdentifier(declaration.name)) {
        const target = globalRef(declaration.name.text);
        // `var x;` must not reset x (it does not in a script either); `let x;` is undefined.
        const value = declaration.initializer ?? (isVar ? target : f.createIdentifier('undefined'));
        return t.setTextRange(assign(target, value), declaration);
      }
      const pattern = toAssignmentTarget(declaration.name);
      return t.setTextRange(f.createExpressionStatement(f.createParenthesizedExpression(
        f.createAssignment(pattern, declaration.initializer ?? f.createIdentifier('undefined')))), declaration);
    });
  }

  function hasExport(node: ts.Node): boolean {
    return t.canHaveModifiers(node) && (t.getModifiers(node) ?? []).some((m) => m.kind === t.SyntaxKind.ExportKeyword);
  }

  function stripExport(modifiers: readonly ts.ModifierLike[] | undefined): ts.ModifierLike[] | undefined {
    return modifiers?.filter((m) => m.kind !== t.SyntaxKind.ExportKeyword && m.kind !== t.SyntaxKind.DefaultKeyword);
  }

  return (context) => (file) => {
    // `import('x')` anywhere in the cell resolves like a static import (see runtime.ts).
    const visitImportCalls = (node: ts.Node): ts.Node => {
      if (t.isCallExpression(node) && node.expression.kind === t.SyntaxKind.ImportKeyword) {
        return t.setTextRange(runtimeCall(t, 'import', node.arguments.map((arg) => t.visitNode(arg, visitImportCalls) as ts.Expression)), node);
      }
      return t.visitEachChild(node, visitImportCalls, context);
    };
    file = t.visitEachChild(file, visitImportCalls, context);
    const hoisted: ts.Statement[] = [];
    const body: ts.Statement[] = [];
    // Statements made from declarations: `let n = 1` is no expression, so it is never the value.
    const declared = new Set<ts.Statement>();
    const declare = (...statements: ts.Statement[]): void => {
      for (const statement of statements) declared.add(statement);
      body.push(...statements);
    };
    for (const statement of file.statements) {
      if (t.isVariableStatement(statement)) declare(...rewriteVariables(statement));
      else if (t.isFunctionDeclaration(statement) && statement.name) {
        // Function declarations are hoisted: publish them before any statement can call them.
        const local = hasExport(statement)
          ? f.updateFunctionDeclaration(statement, stripExport(statement.modifiers), statement.asteriskToken, statement.name,
            statement.typeParameters, statement.parameters, statement.type, statement.body)
          : statement;
        body.push(local);
        hoisted.push(assign(globalRef(statement.name.text), f.createIdentifier(statement.name.text)));
      } else if (t.isClassDeclaration(statement) && statement.name) {
        const expression = f.createClassExpression(stripExport(statement.modifiers), statement.name, statement.typeParameters,
          statement.heritageClauses, statement.members);
        declare(t.setTextRange(assign(globalRef(statement.name.text), expression), statement));
      } else if (t.isExportDeclaration(statement) || t.isExportAssignment(statement)) {
        continue; // a cell is not a module others import from; its names are global already
      } else body.push(statement);
    }
    // The "use strict" TypeScript adds (no position in the cell) is not the cell's value: a cell of comments has none.
    const last = body.findLastIndex((statement) => !t.isEmptyStatement(statement) && !(statement.pos < 0 && t.isExpressionStatement(statement) && t.isStringLiteral(statement.expression)));
    const lastStatement = body[last];
    if (lastStatement && t.isExpressionStatement(lastStatement) && !declared.has(lastStatement)) {
      body[last] = t.setTextRange(f.createReturnStatement(lastStatement.expression), lastStatement);
    }
    // The prologue TypeScript adds ("use strict", no position in the cell) stays first, or it is
    // no directive and a cell that declares a function would run sloppy while one that does not runs strict.
    const prologue = body.findIndex((statement) => !(statement.pos < 0 && t.isExpressionStatement(statement) && t.isStringLiteral(statement.expression)));
    const prologueEnd = prologue < 0 ? body.length : prologue;
    return f.updateSourceFile(file, [...body.slice(0, prologueEnd), ...hoisted, ...body.slice(prologueEnd)]);
  };
}
