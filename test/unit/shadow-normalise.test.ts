import { describe, expect, it } from 'vitest';
import { formatJsonPath, IGNORED, normalise, parseJsonPath } from '../../controller/src/shadow/index.js';

describe('JSON paths', () => {
  it.each([
    ['$', []],
    ['$.a.b', [{ type: 'key', key: 'a' }, { type: 'key', key: 'b' }]],
    ['$.tasks[*].updated_at', [{ type: 'key', key: 'tasks' }, { type: 'wildcard' }, { type: 'key', key: 'updated_at' }]],
    ['$..recorded_at', [{ type: 'descend' }, { type: 'key', key: 'recorded_at' }]],
    ['$..[0]', [{ type: 'descend' }, { type: 'index', index: 0 }]],
    ["$['odd key'][2]", [{ type: 'key', key: 'odd key' }, { type: 'index', index: 2 }]],
    ['$["it\\"s"].*', [{ type: 'key', key: 'it"s' }, { type: 'wildcard' }]],
  ])('parses %s', (text, segments) => {
    expect(parseJsonPath(text)).toEqual({ ok: true, segments });
  });

  it.each(['', 'a.b', '$.', '$..', '$[x]', "$['open", '$.a b', '$[1'])('rejects %j', (text) => {
    expect(parseJsonPath(text).ok).toBe(false);
  });

  it('formats concrete paths, quoting odd keys', () => {
    expect(formatJsonPath(['queue', 'ready', 0, 'id'])).toBe('$.queue.ready[0].id');
    expect(formatJsonPath(['a b', "it's", 'x-y'])).toBe("$['a b']['it\\'s']['x-y']");
    expect(formatJsonPath([])).toBe('$');
  });

  it('round-trips formatted paths through the parser', () => {
    const path = formatJsonPath(['a b', "q'", 3, 'ok']);
    expect(parseJsonPath(path)).toEqual({
      ok: true,
      segments: [{ type: 'key', key: 'a b' }, { type: 'key', key: "q'" }, { type: 'index', index: 3 }, { type: 'key', key: 'ok' }],
    });
  });
});

describe('normalise', () => {
  const status = {
    tasks: [
      { id: 't1', updated_at: '2026-01-01T00:00:00Z', meta: { recorded_at: 'x' } },
      { id: 't2', updated_at: '2026-01-01T00:00:01Z' },
    ],
    queue: { shadow_diffs: { count: 0, recorded_at: 'y' } },
    recorded_at: 'z',
  };

  it('removes wildcard paths without touching the rest', () => {
    expect(normalise(status, ['$.tasks[*].updated_at'])).toEqual({
      queue: { shadow_diffs: { count: 0, recorded_at: 'y' } },
      recorded_at: 'z',
      tasks: [{ id: 't1', meta: { recorded_at: 'x' } }, { id: 't2' }],
    });
  });

  it('removes recursive-descent matches at every depth', () => {
    expect(normalise(status, ['$..recorded_at'])).toEqual({
      queue: { shadow_diffs: { count: 0 } },
      tasks: [
        { id: 't1', updated_at: '2026-01-01T00:00:00Z', meta: {} },
        { id: 't2', updated_at: '2026-01-01T00:00:01Z' },
      ],
    });
  });

  it('replaces ignored array elements so later indices keep their place', () => {
    expect(normalise({ list: [1, 2, 3] }, ['$.list[1]'])).toEqual({ list: [1, IGNORED, 3] });
    expect(normalise({ list: [1, 2] }, ['$.list[*]'])).toEqual({ list: [IGNORED, IGNORED] });
    expect(normalise([{ a: 1 }], ['$..[0]'])).toEqual([IGNORED]);
  });

  it('ignores the root and tolerates paths that match nothing', () => {
    expect(normalise({ a: 1 }, ['$'])).toBe(IGNORED);
    expect(normalise({ a: 1 }, ['$.b.c', '$.a.d', '$[0]'])).toEqual({ a: 1 });
  });

  it('sorts object keys and drops undefined members, but never reorders arrays', () => {
    const out = normalise({ b: 1, a: { d: undefined, c: [3, 1, 2] } });
    expect(JSON.stringify(out)).toBe('{"a":{"c":[3,1,2]},"b":1}');
  });

  it('does not mutate its input', () => {
    const input = structuredClone(status);
    normalise(input, ['$..recorded_at', '$.tasks[0]']);
    expect(input).toEqual(status);
  });

  it('rejects an invalid ignore rule with a coded error', () => {
    expect(() => normalise({}, ['tasks'])).toThrow(expect.objectContaining({ code: 'WVO_SUITE_INVALID' }));
  });
});
