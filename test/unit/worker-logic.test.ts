import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { criticThreshold, nextReputation, reviewByPanel } from '../../worker/src/operations/critics.js';
import { readShadowDiffs } from '../../worker/src/operations/shadow-summary.js';
import { promptTokens, tokenPressure } from '../../worker/src/operations/token-pressure.js';
import { parseJsonRpcBody } from '../../worker/src/jsonrpc.js';
import { Prng } from '../../worker/src/seed/prng.js';
import { classifySchema } from '../../worker/src/store/migrate.js';
import { parseFlagOverrides } from '../../worker/src/store/settings.js';
import { selectChecks } from '../../worker/src/tools/verify.js';
import { fieldPath } from '../../worker/src/tools/tool-result.js';

describe('critics', () => {
  const critics = [
    { id: 'a', name: 'Lenient', strictness: 0, reputation: 0.9 },
    { id: 'b', name: 'Strict', strictness: 1, reputation: 0.5 },
  ];

  it('thresholds grow with strictness', () => {
    expect(criticThreshold(0)).toBe(0.5);
    expect(criticThreshold(1)).toBe(1);
  });

  it('all checks passing: everyone passes and gains reputation', () => {
    const panel = reviewByPanel(critics, 1);
    expect(panel.approved).toBe(true);
    expect(panel.reviews.every((review) => review.verdict === 'pass' && review.agreed)).toBe(true);
    expect(panel.reviews[1]!.reputation_after).toBeGreaterThan(0.5);
  });

  it('a lenient critic that passes failing work loses reputation; consensus is reputation-weighted', () => {
    const panel = reviewByPanel(critics, 0.6);
    expect(panel.reviews.map((review) => review.verdict)).toEqual(['pass', 'fail']);
    expect(panel.reviews[0]!.agreed).toBe(false);
    expect(panel.reviews[0]!.reputation_after).toBeLessThan(0.9);
    expect(panel.consensus).toBeCloseTo(0.9 / 1.4, 3);
    expect(panel.approved).toBe(true);
  });

  it('reputation stays within 0..1', () => {
    let reputation = 0.5;
    for (let i = 0; i < 200; i += 1) reputation = nextReputation(reputation, true);
    expect(reputation).toBeLessThanOrEqual(1);
    for (let i = 0; i < 200; i += 1) reputation = nextReputation(reputation, false);
    expect(reputation).toBeGreaterThanOrEqual(0);
  });
});

describe('token pressure', () => {
  it('levels by ratio', () => {
    expect(tokenPressure(0, 100).level).toBe('low');
    expect(tokenPressure(50, 100).level).toBe('elevated');
    expect(tokenPressure(80, 100).level).toBe('high');
    expect(tokenPressure(120, 100)).toMatchObject({ level: 'critical', ratio: 1.2 });
  });

  it('compact prompts cost fewer tokens', () => {
    expect(promptTokens(1000, 'x'.repeat(40), 'compact')).toBeLessThan(promptTokens(1000, 'x'.repeat(40), 'standard'));
  });
});

describe('SELECTIVE_TESTS check selection', () => {
  const checks = [
    { name: 'smoke', command: { kind: 'noop' as const } },
    { name: 'ui', command: { kind: 'noop' as const }, tags: ['ui'] },
    { name: 'api', command: { kind: 'noop' as const }, tags: ['api', 'core'] },
  ];
  it('off: everything runs', () => expect(selectChecks(checks, 'core', false)).toEqual([true, true, true]));
  it('on: untagged checks and checks tagged for the area', () => expect(selectChecks(checks, 'core', true)).toEqual([true, false, true]));
});

describe('schema classification', () => {
  it('current / behind / too_new', () => {
    expect(classifySchema(3, 3)).toBe('current');
    expect(classifySchema(0, 3)).toBe('behind');
    expect(classifySchema(4, 3)).toBe('too_new');
  });
});

describe('WVO_FLAGS parsing', () => {
  it('parses known flags', () => {
    expect(parseFlagOverrides('PROMPT_MODE=compact, SELECTIVE_TESTS=on')).toEqual({ flags: { PROMPT_MODE: 'compact', SELECTIVE_TESTS: 'on' } });
    expect(parseFlagOverrides(undefined)).toEqual({ flags: {} });
  });
  it('names the bad entry', () => {
    expect(parseFlagOverrides('PROMPT_MODE=loud')).toEqual({ error: 'PROMPT_MODE=loud' });
    expect(parseFlagOverrides('NOPE=1')).toEqual({ error: 'NOPE=1' });
  });
});

describe('JSON-RPC body parsing', () => {
  it('parses a request and spots initialize', () => {
    const init = parseJsonRpcBody(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    );
    expect(init).toMatchObject({ ok: true, initialize: true });
  });
  it('bad JSON → WVO_JSONRPC_PARSE; not JSON-RPC → WVO_JSONRPC_INVALID naming the batch item', () => {
    expect(parseJsonRpcBody('{oops')).toMatchObject({ ok: false, error: { error: { code: -32700, data: { code: 'WVO_JSONRPC_PARSE' } } } });
    expect(parseJsonRpcBody('{"hello":1}')).toMatchObject({ ok: false, error: { error: { code: -32600, data: { code: 'WVO_JSONRPC_INVALID' } } } });
    expect(parseJsonRpcBody('[{"jsonrpc":"2.0","method":"ping","id":1},{"x":1}]')).toMatchObject({
      ok: false,
      error: { error: { data: { field: 'body[1]' } } },
    });
    expect(parseJsonRpcBody('[]')).toMatchObject({ ok: false, error: { error: { data: { code: 'WVO_JSONRPC_INVALID' } } } });
  });
});

describe('fieldPath', () => {
  it('formats zod paths', () => expect(fieldPath(['command', 'args', 2])).toBe('command.args[2]'));
});

describe('Prng', () => {
  it('is deterministic per seed', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
  });
});

describe('upgrade_shadow.json reading', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'wvo-worker-test-shadow-'));
    mkdirSync(join(root, 'analytics'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const write = (text: string) => writeFileSync(join(root, 'analytics', 'upgrade_shadow.json'), text);

  it('missing → count 0, no warning', () => {
    expect(readShadowDiffs(root)).toEqual({ diffs: { count: 0, recorded_at: null, path: null } });
  });
  it('valid → the summary', () => {
    write(JSON.stringify({ count: 3, path: 'experiments/mcp/upgrade/x/shadow.json', recorded_at: '2025-10-17T10:00:00.000Z', extra: 1 }));
    expect(readShadowDiffs(root)).toEqual({
      diffs: { count: 3, path: 'experiments/mcp/upgrade/x/shadow.json', recorded_at: '2025-10-17T10:00:00.000Z' },
    });
  });
  it('the harness\'s split of count (answer_groups, state_differences) is accepted, and checked', () => {
    const summary = { count: 5, answer_groups: 1, state_differences: 4, path: 'experiments/mcp/upgrade/x/shadow.json', recorded_at: '2025-10-17T10:00:00.000Z' };
    write(JSON.stringify(summary));
    expect(readShadowDiffs(root)).toEqual({ diffs: { count: 5, path: summary.path, recorded_at: summary.recorded_at } });
    write(JSON.stringify({ ...summary, state_differences: -1 }));
    expect(readShadowDiffs(root).warning?.message).toContain('state_differences');
  });
  it('not JSON or wrong shape → count 0 and a coded warning', () => {
    write('{not json');
    expect(readShadowDiffs(root)).toMatchObject({ diffs: { count: 0 }, warning: { code: 'WVO_SHADOW_SUMMARY_INVALID' } });
    write(JSON.stringify({ count: 'three', path: 'x', recorded_at: 'yesterday' }));
    const read = readShadowDiffs(root);
    expect(read.warning?.message).toContain('count');
  });
});
