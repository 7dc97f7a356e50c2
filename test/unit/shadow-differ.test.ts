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

  it('aligns lists of different lengths: an element missing in the middle is one removal', () => {
    const tasks = ['T-1', 'T-2', 'T-3', 'T-4', 'T-5'].map((id) => ({ id, priority: 1 }));
    expect(paths({ tasks }, { tasks: tasks.filter((t) => t.id !== 'T-2') })).toEqual(['removed $.tasks[1]']);
    expect(paths([1, 2, 3, 4], [1, 9, 2, 3, 4])).toEqual(['added $[1]']);
    // By identity, a field changed on every element still lines up: one removal, the rest changes.
    const ranked = tasks.filter((t) => t.id !== 'T-1').map((t, i) => ({ ...t, rank: i }));
    expect(paths({ tasks }, { tasks: ranked })).toEqual(['removed $.tasks[0]', 'added $.tasks[1].rank', 'added $.tasks[2].rank', 'added $.tasks[3].rank', 'added $.tasks[4].rank']);
    // Content that matches too little is compared index by index, as before.
    expect(paths([{ a: 1 }, { a: 2 }, { a: 3 }], [{ a: 1, b: 0 }, { a: 2, b: 0 }])).toEqual([
      'added $[0].b',
      'added $[1].b',
      'removed $[2]',
    ]);
    // Order still matters: a moved element is a difference where it was and where it is.
    expect(paths(['a', 'b', 'c', 'd'], ['b', 'c', 'a'])).toEqual(['removed $[0]', 'changed $[3]']);
    // A top-N list: one task left, the next one came in at the end. Two differences, not five.
    const top = (ids: string[]) => ids.map((id) => ({ id, title: `task ${id}` }));
    expect(paths(top(['T-1', 'T-2', 'T-3', 'T-4', 'T-5']), top(['T-1', 'T-3', 'T-4', 'T-5', 'T-6']))).toEqual(['removed $[1]', 'added $[4]']);
    // A swap is still compared index by index.
    expect(paths(['a', 'b', 'c'], ['b', 'a', 'c'])).toEqual(['changed $[0]', 'changed $[1]']);
    // Elements facing each other between matches are changes in place.
    expect(paths([1, 2, 3, 4], [1, 7, 8, 9, 4])).toEqual(['changed $[1]', 'changed $[2]', 'added $[3]']);
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
