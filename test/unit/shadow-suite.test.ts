import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WvoError } from '../../common/src/errors.js';
import {
  checkSuiteTools,
  defaultSuite,
  loadSuite,
  parseSuite,
  resolveArgumentRefs,
  resolveThresholds,
  validateSuite,
} from '../../controller/src/shadow/index.js';

function thrown(fn: () => unknown): WvoError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WvoError);
    return error as WvoError;
  }
  throw new Error('expected a WvoError');
}

describe('suite files', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('parses JSON with defaults and optional fields', () => {
    const suite = parseSuite(
      JSON.stringify({
        calls: [{ tool: 'plan_next' }, { tool: 'dispatch', arguments: { task_id: 't1' }, ignore: ['$..id'], name: 'd' }],
        ignore: ['$.tasks[*].updated_at'],
        thresholds: { relative: 0.5 },
      }),
      'suite.json',
    );
    expect(suite.calls[0]).toEqual({ tool: 'plan_next', arguments: {} });
    expect(suite.calls[1]?.ignore).toEqual(['$..id']);
    expect(resolveThresholds(suite.thresholds)).toEqual({ relative: 0.5, absolute: 0, proportional: 0.05, timestamp_tolerance_ms: 2000 });
  });

  it('parses YAML by extension', () => {
    const suite = parseSuite(
      ['ignore: ["$..recorded_at"]', 'calls:', '  - tool: plan_next', '    arguments: {limit: 3}', '  - tool: verify'].join('\n'),
      'suite.yaml',
    );
    expect(suite.calls.map((call) => call.tool)).toEqual(['plan_next', 'verify']);
    expect(suite.calls[0]?.arguments).toEqual({ limit: 3 });
  });

  it.each([
    ['missing tool', { calls: [{ arguments: {} }] }, '$.calls[0].tool'],
    ['empty tool', { calls: [{ tool: 'a' }, { tool: '' }] }, '$.calls[1].tool'],
    ['arguments not an object', { calls: [{ tool: 'a', arguments: [1] }] }, '$.calls[0].arguments'],
    ['bad ignore path', { calls: [{ tool: 'a', ignore: ['$.ok', 'tasks.id'] }] }, '$.calls[0].ignore[1]'],
    ['bad global ignore', { calls: [{ tool: 'a' }], ignore: ['$.a[x]'] }, '$.ignore[0]'],
    ['unknown key in a call', { calls: [{ tool: 'a', argumnets: {} }] }, '$.calls[0].argumnets'],
    ['unknown top-level key', { calls: [{ tool: 'a' }], call: [] }, '$.call'],
    ['negative threshold', { calls: [{ tool: 'a' }], thresholds: { absolute: -1 } }, '$.thresholds.absolute'],
    ['no calls', { calls: [] }, '$.calls'],
    ['not an object', [1, 2], '$'],
  ])('rejects %s, naming the file and the JSON path', (_label, raw, path) => {
    const error = thrown(() => parseSuite(JSON.stringify(raw), 'suites/bad.json'));
    expect(error.code).toBe('WVO_SUITE_INVALID');
    expect(error.message).toContain('suites/bad.json');
    expect(error.details?.path).toBe(path);
    expect(error.subject).toBe(`suites/bad.json ${path}`);
  });

  it('names the JSON path for YAML files too', () => {
    const error = thrown(() => parseSuite('calls:\n  - tool: a\n  - tool: 7\n', 'my.yml'));
    expect(error.code).toBe('WVO_SUITE_INVALID');
    expect(error.details?.path).toBe('$.calls[1].tool');
    expect(error.message).toContain('my.yml');
  });

  it('reports syntax errors with the file', () => {
    const json = thrown(() => parseSuite('{"calls": [', 'broken.json'));
    expect(json.code).toBe('WVO_SUITE_INVALID');
    expect(json.message).toMatch(/broken\.json is not valid JSON/);
    const yaml = thrown(() => parseSuite('calls:\n  - tool: a\n   bad: [', 'broken.yaml'));
    expect(yaml.code).toBe('WVO_SUITE_INVALID');
    expect(yaml.message).toMatch(/broken\.yaml is not valid YAML/);
  });

  it('loads files from disk and reports a missing one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'wvo-shadow-suite-'));
    await writeFile(join(dir, 's.yml'), 'calls:\n  - tool: plan_next\n');
    expect((await loadSuite(join(dir, 's.yml'))).calls).toHaveLength(1);
    await expect(loadSuite(join(dir, 'nope.json'))).rejects.toMatchObject({ code: 'WVO_SUITE_UNREADABLE' });
    await writeFile(join(dir, 'bad.json'), '{"calls":[{"tool":1}]}');
    await expect(loadSuite(join(dir, 'bad.json'))).rejects.toMatchObject({
      code: 'WVO_SUITE_INVALID',
      details: { path: '$.calls[0].tool', file: join(dir, 'bad.json') },
    });
  });

  it('validates $from references: an earlier named call and a valid path', () => {
    const ok = validateSuite({
      calls: [
        { tool: 'plan_next', name: 'top' },
        { tool: 'dispatch', arguments: { task_id: { $from: 'top', path: '$.tasks[0].id' } } },
      ],
    });
    expect(ok.calls).toHaveLength(2);
    const later = thrown(() =>
      validateSuite(
        { calls: [{ tool: 'dispatch', arguments: { task_id: { $from: 'top', path: '$.id' } } }, { tool: 'plan_next', name: 'top' }] },
        'refs.json',
      ),
    );
    expect(later.details?.path).toBe('$.calls[0].arguments.task_id.$from');
    const badPath = thrown(() =>
      validateSuite({ calls: [{ tool: 'a', name: 'a' }, { tool: 'b', arguments: { list: [{ $from: 'a', path: 'id' }] } }] }),
    );
    expect(badPath.details?.path).toBe('$.calls[1].arguments.list[0].path');
  });

  it('resolves $from references from earlier answers, null when nothing matches', () => {
    const answers = new Map<string, unknown>([['top', { tasks: [{ id: 'T-7' }] }]]);
    expect(
      resolveArgumentRefs(
        {
          task_id: { $from: 'top', path: '$.tasks[0].id' },
          nested: [{ $from: 'top', path: '$..id' }],
          missing: { $from: 'top', path: '$.tasks[5].id' },
          unknown: { $from: 'nope', path: '$' },
          literal: { $from: 'top', path: '$', extra: 1 },
        },
        answers,
      ),
    ).toEqual({
      task_id: 'T-7',
      nested: ['T-7'],
      missing: null,
      unknown: null,
      literal: { $from: 'top', path: '$', extra: 1 },
    });
  });

  it('checks tools against the server list, naming the call index', () => {
    const suite = validateSuite({ calls: [{ tool: 'plan_next' }, { tool: 'plan_nxet', name: 'typo' }] }, 's.json');
    expect(() => checkSuiteTools(suite, ['plan_next', 'plan_nxet'])).not.toThrow();
    const error = thrown(() => checkSuiteTools(suite, ['plan_next', 'verify'], 's.json'));
    expect(error.code).toBe('WVO_SUITE_UNKNOWN_TOOL');
    expect(error.message).toContain('call 1 (typo)');
    expect(error.subject).toBe('s.json $.calls[1].tool');
    expect(error.details).toMatchObject({ index: 1, tool: 'plan_nxet', listed: ['plan_next', 'verify'] });
  });

  it('rejects bad thresholds given by a caller', () => {
    expect(thrown(() => resolveThresholds({ relative: -0.1 })).code).toBe('WVO_SHADOW_THRESHOLDS_INVALID');
    expect(resolveThresholds({ absolute: 2 }, { absolute: undefined, relative: 3 })).toEqual({
      relative: 3,
      absolute: 2,
      proportional: 0.05,
      timestamp_tolerance_ms: 2000,
    });
  });

  it('ships a valid default suite covering the six worker tools with several argument sets', () => {
    const suite = defaultSuite();
    const tools = suite.calls.map((call) => call.tool);
    for (const tool of ['plan_next', 'dispatch', 'verify', 'report', 'orchestrator_status', 'autopilot_status']) {
      expect(tools, tool).toContain(tool);
    }
    for (const tool of ['plan_next', 'dispatch', 'verify', 'report']) {
      expect(tools.filter((name) => name === tool).length, tool).toBeGreaterThanOrEqual(2);
    }
    // A claim the suite later reports is reset (claimed_by NULL) on every lane: the state diff sees
    // only the end state, so one named-agent claim must stay in it (bench/shadow-power.ts).
    const taskRef = (args: Record<string, unknown>) => JSON.stringify(args.task_id ?? null);
    const reported = new Set(suite.calls.filter((call) => call.tool === 'report').map((call) => taskRef(call.arguments)));
    const kept = suite.calls.filter((call) => call.tool === 'dispatch' && call.arguments.agent === 'wvo-shadow' && !reported.has(taskRef(call.arguments)));
    expect(kept.map((call) => call.name)).toContain('dispatch fourth as shadow agent, left claimed');
    // verify's success path needs a dispatched task, and a failing check needs a task that has one:
    // the suite dispatches then verifies a run of planned tasks, each verify after its dispatch.
    const verified = suite.calls.flatMap((call, index) => (call.tool === 'verify' ? [{ index, ref: taskRef(call.arguments) }] : []));
    const swept = verified.filter(({ index, ref }) => suite.calls.slice(0, index).some((call) => call.tool === 'dispatch' && taskRef(call.arguments) === ref));
    expect(swept.length).toBeGreaterThanOrEqual(8);
    suite.calls[0]!.arguments.mutated = true;
    expect(defaultSuite().calls[0]!.arguments).not.toHaveProperty('mutated');
  });
});
