import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorSpec } from '../../common/src/error-catalogue.js';
import { loadCatalogues, readSource, sourceFiles } from '../helpers/error-catalogues.js';

/** The one file that may write `new WvoError(`: the catalogue factory. */
const NEW_WVO_ERROR_ALLOWED = new Set([
  'common/src/error-catalogue.ts',
]);

/** WvoError subclasses; each builds its options from a catalogue (or, the client, rebuilds a remote error). */
const SUBCLASSES = new Set(['RuntimeError', 'ProxyError', 'WorkerError', 'ControllerApiError']);

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readSource(file), ts.ScriptTarget.Latest, true);
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

const where = (sf: ts.SourceFile, node: ts.Node) => `${sf.fileName}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;

describe('errors are built from catalogues', () => {
  beforeAll(async () => {
    await loadCatalogues();
  });

  it('no `new WvoError(` outside the catalogue factory', () => {
    const offenders = sourceFiles().filter((file) => !NEW_WVO_ERROR_ALLOWED.has(file) && /\bnew WvoError\(/.test(readSource(file)));
    expect(offenders, 'build the error with your room\'s catalogue: <room>Errors.create(code, message, {subject, hint})').toEqual([]);
  });

  it('WvoError subclasses are the known ones, built on catalogues', () => {
    const found: string[] = [];
    for (const file of sourceFiles()) {
      const sf = parse(file);
      walk(sf, (node) => {
        if (!ts.isClassDeclaration(node) || !node.name) return;
        const base = node.heritageClauses?.flatMap((h) => h.types.map((t) => t.expression.getText()));
        if (!base?.includes('WvoError')) return;
        found.push(node.name.text);
        // A catalogued subclass resolves status and exit code through its factory's options().
        if (node.name.text !== 'ControllerApiError') expect(node.getText(), `${node.name.text} (${file})`).toMatch(/super\([^;]*\.options\(code/);
      });
    }
    expect(found.sort()).toEqual([...SUBCLASSES].sort());
  });

  it('every thrown code is catalogued, and an exitCode override differs from its catalogue', () => {
    const unknown: string[] = [];
    const redundant: string[] = [];
    let calls = 0;
    for (const file of sourceFiles()) {
      const sf = parse(file);
      walk(sf, (node) => {
        const isCreate = ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'create';
        const isSubclass = ts.isNewExpression(node) && SUBCLASSES.has(node.expression.getText());
        if (!isCreate && !isSubclass) return;
        const [code, , options] = (node as ts.CallExpression | ts.NewExpression).arguments ?? [];
        if (!code || !ts.isStringLiteral(code) || !code.text.startsWith('WVO_')) return;
        calls += 1;
        const spec = errorSpec(code.text);
        if (!spec) return void unknown.push(`${code.text} at ${where(sf, node)}`);
        // Subclass sites (proxy, runtime, worker) still spell their exit codes out; only create() is held to this.
        if (!isCreate || !options || !ts.isObjectLiteralExpression(options)) return;
        const exit = options.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === 'exitCode');
        if (exit && Number(exit.initializer.getText()) === (spec.exitCode ?? 1)) redundant.push(`${code.text} at ${where(sf, node)}`);
      });
    }
    expect(calls).toBeGreaterThan(150);
    expect(unknown, 'codes thrown but declared by no catalogue').toEqual([]);
    expect(redundant, 'exitCode equal to the catalogue\'s: drop it (the catalogue owns it)').toEqual([]);
  });
});
