import { describe, expect, it } from 'vitest';
import { diffJsonSchema } from '../../controller/src/shadow/json-schema-diff.js';
import { compareSurfaces } from '../../controller/src/shadow/tool-surface.js';
import { SurfaceReportSchema, type RawSurface, type SurfaceReport } from '../../controller/src/shadow/tool-surface-types.js';

const surface = (parts: Partial<RawSurface> = {}): RawSurface => ({ tools: [], prompts: [], resources: [], resourceTemplates: [], ...parts });
const obj = (properties: Record<string, unknown>, required: string[] = [], extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  ...extra,
});
const tool = (name: string, inputSchema: unknown = obj({}), extra: Record<string, unknown> = {}) => ({ name, inputSchema, ...extra });

/** The changes as `category path` lines (reasons checked where they matter). */
const lines = (report: SurfaceReport) => report.changes.map((c) => `${c.category} ${c.path}`);
const toolsDiff = (before: unknown[], after: unknown[]) => compareSurfaces(surface({ tools: before }), surface({ tools: after }));

describe('tool-surface gate: tools', () => {
  it('an identical surface has no changes', () => {
    const s = surface({ tools: [tool('a', obj({ q: { type: 'string' } }, ['q']))], prompts: [{ name: 'p' }] });
    expect(compareSurfaces(s, structuredClone(s))).toEqual({ changes: [], breaking: 0, additive: 0, informational: 0 });
  });

  it('tool removed is breaking, new tool additive, description informational; counts match', () => {
    const report = toolsDiff([tool('gone'), tool('kept', obj({}), { description: 'old' })], [tool('kept', obj({}), { description: 'new' }), tool('fresh')]);
    expect(lines(report)).toEqual(['breaking $.tools.gone', 'informational $.tools.kept.description', 'additive $.tools.fresh']);
    expect(report).toMatchObject({ breaking: 1, additive: 1, informational: 1 });
    expect(report.changes[1]).toMatchObject({ kind: 'tool', before: 'old', after: 'new', reason: 'description changed' });
    expect(SurfaceReportSchema.parse(report)).toEqual(report);
  });

  it('input: new optional property additive, new required property breaking, removed property breaking', () => {
    const report = toolsDiff(
      [tool('t', obj({ a: { type: 'string' }, old: { type: 'number' } }))],
      [tool('t', obj({ a: { type: 'string' }, opt: { type: 'number' }, must: { type: 'string' } }, ['must']))],
    );
    expect(lines(report).sort()).toEqual([
      'additive $.tools.t.inputSchema.properties.opt',
      'breaking $.tools.t.inputSchema.properties.must',
      'breaking $.tools.t.inputSchema.properties.old',
    ]);
    expect(report.changes.find((c) => c.path.endsWith('must'))?.reason).toMatch(/new required input property/);
  });

  it('input: optional → required breaking, required → optional additive', () => {
    const report = toolsDiff([tool('t', obj({ a: {}, b: {} }, ['a']))], [tool('t', obj({ a: {}, b: {} }, ['b']))]);
    expect(lines(report).sort()).toEqual(['additive $.tools.t.inputSchema.required.a', 'breaking $.tools.t.inputSchema.required.b']);
  });

  it('input: widened type or enum additive; narrowed type, enum or bounds breaking; unrelated type breaking', () => {
    const before = obj({
      n: { type: 'integer' },
      s: { type: 'string' },
      e: { enum: ['a', 'b'] },
      w: { enum: ['a'] },
      m: { type: 'number', minimum: 0 },
      x: { type: 'string' },
    });
    const after = obj({
      n: { type: 'number' },
      s: { type: ['string', 'null'] },
      e: { enum: ['a'] },
      w: { enum: ['a', 'b'] },
      m: { type: 'number', minimum: 1 },
      x: { type: 'boolean' },
    });
    const report = toolsDiff([tool('t', before)], [tool('t', after)]);
    expect(lines(report)).toEqual([
      'additive $.tools.t.inputSchema.properties.n.type',
      'additive $.tools.t.inputSchema.properties.s.type',
      'breaking $.tools.t.inputSchema.properties.e.enum',
      'additive $.tools.t.inputSchema.properties.w.enum',
      'breaking $.tools.t.inputSchema.properties.m.minimum',
      'breaking $.tools.t.inputSchema.properties.x.type',
    ]);
    expect(report.changes[2]).toMatchObject({ before: ['a', 'b'], after: ['a'], reason: expect.stringContaining('narrowed') });
  });

  it('output: removed property or outputSchema breaking, new property additive, wider type breaking', () => {
    const out = (properties: Record<string, unknown>, required: string[] = []) => ({ outputSchema: obj(properties, required) });
    const report = toolsDiff(
      [tool('t', obj({}), out({ id: { type: 'string' }, n: { type: 'integer' }, gone: { type: 'string' } }, ['id'])), tool('u', obj({}), out({}))],
      [tool('t', obj({}), out({ id: { type: 'string' }, n: { type: 'number' }, extra: { type: 'string' } })), tool('u')],
    );
    expect(lines(report).sort()).toEqual([
      'additive $.tools.t.outputSchema.properties.extra',
      'breaking $.tools.t.outputSchema.properties.gone',
      'breaking $.tools.t.outputSchema.properties.n.type',
      'breaking $.tools.t.outputSchema.required.id',
      'breaking $.tools.u.outputSchema',
    ]);
    // and the other way round: a new outputSchema is additive, a narrower output type informational
    const back = toolsDiff([tool('u'), tool('t', obj({}), out({ n: { type: 'number' } }))], [tool('u', obj({}), out({})), tool('t', obj({}), out({ n: { type: 'integer' } }))]);
    expect(lines(back)).toEqual(['additive $.tools.u.outputSchema', 'informational $.tools.t.outputSchema.properties.n.type']);
  });

  it('annotations: readOnlyHint true→false and destructiveHint false→true (absent = true) are breaking; the reverse informational', () => {
    const a = (annotations: Record<string, unknown>) => ({ annotations });
    const report = toolsDiff(
      [tool('r', obj({}), a({ readOnlyHint: true })), tool('d', obj({}), a({ destructiveHint: false })), tool('i', obj({}), a({ destructiveHint: false, idempotentHint: true }))],
      [tool('r', obj({}), a({ readOnlyHint: false })), tool('d', obj({}), a({})), tool('i', obj({}), a({ destructiveHint: false, idempotentHint: false }))],
    );
    expect(lines(report)).toEqual([
      'breaking $.tools.r.annotations.readOnlyHint',
      'breaking $.tools.d.annotations.destructiveHint',
      'breaking $.tools.i.annotations.idempotentHint',
    ]);
    expect(report.changes[1]).toMatchObject({ before: false, after: true });
    const reverse = toolsDiff([tool('r', obj({}), a({}))], [tool('r', obj({}), a({ readOnlyHint: true, title: 'R' }))]);
    expect(lines(reverse)).toEqual(['informational $.tools.r.annotations.readOnlyHint', 'informational $.tools.r.annotations.title']);
  });
});

describe('tool-surface gate: prompts, resources, templates', () => {
  it('classifies prompt arguments and prompt removal', () => {
    const report = compareSurfaces(
      surface({ prompts: [{ name: 'p', arguments: [{ name: 'a' }, { name: 'b', required: true }] }, { name: 'gone' }] }),
      surface({ prompts: [{ name: 'p', description: 'now described', arguments: [{ name: 'a', required: true }, { name: 'c' }, { name: 'd', required: true }] }] }),
    );
    expect(lines(report)).toEqual([
      'breaking $.prompts.p.arguments.a.required',
      'breaking $.prompts.p.arguments.b',
      'additive $.prompts.p.arguments.c',
      'breaking $.prompts.p.arguments.d',
      'informational $.prompts.p.description',
      'breaking $.prompts.gone',
    ]);
    expect(report.changes.every((c) => c.kind === 'prompt')).toBe(true);
  });

  it('resources by uri and templates by uriTemplate: removed breaking, new additive, mimeType breaking, name informational', () => {
    const report = compareSurfaces(
      surface({
        resources: [{ uri: 'file:///a', name: 'a', mimeType: 'text/plain' }, { uri: 'file:///gone', name: 'g' }],
        resourceTemplates: [{ uriTemplate: 'db://{t}', name: 'table' }],
      }),
      surface({
        resources: [{ uri: 'file:///a', name: 'A', mimeType: 'application/json' }],
        resourceTemplates: [{ uriTemplate: 'db://{t}', name: 'table' }, { uriTemplate: 'log://{day}', name: 'log' }],
      }),
    );
    expect(report.changes.map((c) => `${c.kind} ${c.category} ${c.path}`)).toEqual([
      "resource breaking $.resources['file:///a'].mimeType",
      "resource informational $.resources['file:///a'].name",
      "resource breaking $.resources['file:///gone']",
      "resource_template additive $.resourceTemplates['log://{day}']",
    ]);
  });
});

describe('tool-surface gate: bad input', () => {
  it('an invalid JSON Schema is a coded error naming the side, tool and field', () => {
    const bad = surface({ tools: [tool('search', obj({ q: { type: 'strin' } }))] });
    expect(() => compareSurfaces(surface(), bad)).toThrow(
      expect.objectContaining({
        code: 'WVO_SHADOW_SCHEMA_INVALID',
        subject: 'candidate:$.tools.search.inputSchema.properties.q.type',
        details: { side: 'candidate', tool: 'search', field: 'inputSchema.properties.q.type' },
      }),
    );
    const notObject = surface({ tools: [tool('t', { type: 'string' })] });
    expect(() => compareSurfaces(notObject, surface())).toThrow(expect.objectContaining({ code: 'WVO_SHADOW_SCHEMA_INVALID', subject: 'baseline:$.tools.t.inputSchema.type' }));
    const badPattern = surface({ tools: [tool('t', obj({}), { outputSchema: obj({ s: { type: 'string', pattern: '([' } }) })] });
    expect(() => compareSurfaces(badPattern, surface())).toThrow(expect.objectContaining({ subject: 'baseline:$.tools.t.outputSchema.properties.s.pattern' }));
  });

  it('a malformed item or a duplicate name is WVO_SHADOW_SURFACE_INVALID naming where', () => {
    expect(() => compareSurfaces(surface({ tools: [{ inputSchema: obj({}) }] }), surface())).toThrow(
      expect.objectContaining({ code: 'WVO_SHADOW_SURFACE_INVALID', subject: 'baseline:$.tools[0].name' }),
    );
    expect(() => compareSurfaces(surface(), surface({ prompts: [{ name: 'p' }, { name: 'p' }] }))).toThrow(
      expect.objectContaining({ code: 'WVO_SHADOW_SURFACE_INVALID', subject: 'candidate:$.prompts.p' }),
    );
  });
});

describe('JSON Schema diff details', () => {
  it('additionalProperties false is a narrowing on input; bounds and lengths move the right way', () => {
    const kinds = (before: unknown, after: unknown, direction: 'input' | 'output' = 'input') =>
      diffJsonSchema(before, after, direction).map((c) => `${c.category} ${c.keys.join('.')}`);
    expect(kinds(obj({}), obj({}, [], { additionalProperties: false }))).toEqual(['breaking additionalProperties']);
    expect(kinds(obj({}, [], { additionalProperties: false }), obj({}))).toEqual(['additive additionalProperties']);
    expect(kinds(obj({}), obj({}, [], { additionalProperties: false }), 'output')).toEqual(['informational additionalProperties']);
    expect(kinds({ type: 'string', maxLength: 10 }, { type: 'string', maxLength: 20 })).toEqual(['additive maxLength']);
    expect(kinds({ type: 'string', maxLength: 10 }, { type: 'string', maxLength: 5 })).toEqual(['breaking maxLength']);
    expect(kinds({ type: 'array', items: { type: 'integer' } }, { type: 'array', items: { type: 'number' } })).toEqual(['additive items.type']);
    expect(kinds({ anyOf: [{ type: 'string' }] }, { anyOf: [{ type: 'string' }, { type: 'null' }] })).toEqual(['additive anyOf']);
    expect(kinds({ type: 'string', default: 'a' }, { type: 'string', default: 'b' })).toEqual(['informational default']);
    expect(kinds({ type: 'integer', multipleOf: 2 }, { type: 'integer', multipleOf: 4 })).toEqual(['breaking multipleOf']);
  });
});
