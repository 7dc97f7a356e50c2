import { describe, expect, it } from 'vitest';
import { diffJson, jsonEqual } from '../../controller/src/shadow/index.js';

const paths = (a: unknown, b: unknown) => diffJson(a, b).map((diff) => `${diff.kind} ${diff.path}`);

describe('structural differ', () => {
  it('finds nothing in equal values, whatever the key order', () => {
    expect(diffJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toEqual([]);
    expect(jsonEqual('x', 'x')).toBe(true);
    expect(jsonEqual(0, -0)).toBe(true);
    expect(jsonEqual(Number.NaN, Number.NaN)).toBe(true);
  });

  it('reports changed leaves by JSON path', () => {
    const before = { queue: { ready: [{ id: 't1' }, { id: 't2' }] } };
    const after = { queue: { ready: [{ id: 't2' }, { id: 't1' }] } };
    expect(diffJson(before, after)).toEqual([
      { path: '$.queue.ready[0].id', keys: ['queue', 'ready', 0, 'id'], kind: 'changed', before: 't1', after: 't2' },
      { path: '$.queue.ready[1].id', keys: ['queue', 'ready', 1, 'id'], kind: 'changed', before: 't2', after: 't1' },
    ]);
  });

  it('reports added and removed members and array tails', () => {
    expect(paths({ a: 1, gone: true, list: [1, 2, 3] }, { a: 1, fresh: 'x', list: [1] })).toEqual([
      'added $.fresh',
      'removed $.gone',
      'removed $.list[1]',
      'removed $.list[2]',
    ]);
    expect(paths([1], [1, { x: 1 }])).toEqual(['added $[1]']);
    const [added] = diffJson({}, { k: { deep: 1 } });
    expect(added).toEqual({ path: '$.k', keys: ['k'], kind: 'added', after: { deep: 1 } });
    expect(added).not.toHaveProperty('before');
  });

  it('reports a type change once, where it happens', () => {
    expect(paths({ a: { b: 1 } }, { a: [1] })).toEqual(['changed $.a']);
    expect(paths({ a: 1 }, { a: '1' })).toEqual(['changed $.a']);
    expect(paths({ a: null }, { a: {} })).toEqual(['changed $.a']);
    expect(paths('text', { a: 1 })).toEqual(['changed $']);
  });

  it('quotes odd keys in paths', () => {
    expect(paths({ 'a.b': 1 }, { 'a.b': 2 })).toEqual(["changed $['a.b']"]);
  });
});
