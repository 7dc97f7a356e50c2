import { describe, expect, it } from 'vitest';
import { defaultAppSuite, selectSafeCalls, type RawSurface, type Suite } from '../../controller/src/shadow/index.js';

const tool = (name: string, readOnly?: boolean, required: Record<string, unknown> = {}) => ({
  name,
  inputSchema: { type: 'object', properties: required, required: Object.keys(required) },
  ...(readOnly === undefined ? {} : { annotations: { readOnlyHint: readOnly } }),
});
const surface = (...tools: unknown[]): RawSurface => ({ tools, prompts: [], resources: [], resourceTemplates: [] });

describe('which calls run on an app without a shadow mode', () => {
  const baseline = surface(tool('read', true), tool('write', false), tool('bare'), tool('flipped', true));
  const candidate = surface(tool('read', true), tool('write', false), tool('bare'), tool('flipped', false));
  const suite: Suite = { calls: [{ tool: 'read', arguments: {} }, { tool: 'write', arguments: {} }, { tool: 'bare', arguments: {}, safe: true }, { tool: 'flipped', arguments: {} }] };

  it('runs read-only tools and vouched-for calls, skips the rest and says why', () => {
    const picked = selectSafeCalls(suite, { shadowMode: false, safeTools: [], baseline, candidate });
    expect(picked.suite?.calls.map((c) => c.tool)).toEqual(['read', 'bare']);
    expect(picked.skipped).toEqual([
      { tool: 'write', call: 'write#1', reason: expect.stringContaining('baseline and candidate do not annotate write readOnlyHint: true') },
      { tool: 'flipped', call: 'flipped#3', reason: expect.stringContaining('candidate does not annotate flipped readOnlyHint: true') },
    ]);
  });

  it('an app told it is a shadow runs every call; safeTools vouches for a tool', () => {
    expect(selectSafeCalls(suite, { shadowMode: true, safeTools: [], baseline, candidate }).skipped).toEqual([]);
    expect(selectSafeCalls(suite, { shadowMode: false, safeTools: ['write', 'flipped'], baseline, candidate }).skipped).toEqual([]);
  });

  it('the default app suite calls each read-only tool with placeholder required inputs', () => {
    const b = surface(tool('search', true, { q: { type: 'string' }, n: { type: 'integer', minimum: 2 }, mode: { enum: ['fast', 'slow'] } }), tool('gone', true));
    const c = surface(tool('search', true));
    const { suite: made, skipped } = defaultAppSuite({ shadowMode: false, safeTools: [], baseline: b, candidate: c });
    expect(made?.calls).toEqual([{ tool: 'search', name: 'search', arguments: { q: 'wvo', n: 2, mode: 'fast' } }]);
    expect(skipped).toEqual([{ tool: 'gone', call: 'gone', reason: expect.stringContaining('candidate does not list it') }]);
  });
});
