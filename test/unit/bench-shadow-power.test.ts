import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, type Finding } from '../../bench/shadow-power-classify.js';
import { applyEdits, COMMENT_EDITS, MUTATION_KINDS, MUTATIONS } from '../../bench/shadow-power-mutations.js';
import { PROJECT_ROOT } from '../helpers/workspace.js';

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');

/** bench/shadow-power.ts: its mutations still apply to this tree, and its classification. */
describe('shadow-power mutations', () => {
  it('are at least 12, named uniquely, and cover every kind', () => {
    expect(MUTATIONS.length).toBeGreaterThanOrEqual(12);
    expect(new Set(MUTATIONS.map((m) => m.name)).size).toBe(MUTATIONS.length);
    expect(new Set(MUTATIONS.map((m) => m.kind))).toEqual(new Set(MUTATION_KINDS));
  });

  it.each(MUTATIONS.map((m) => [m.name, m] as const))('%s applies exactly to worker/src and changes it', (_name, mutation) => {
    const changed = applyEdits(read, mutation.edits, mutation.name);
    expect(changed.size).toBeGreaterThan(0);
    for (const [file, text] of changed) expect(text, file).not.toBe(read(file));
    expect(mutation.expect.length).toBeGreaterThan(0);
  });

  it('comment-only edits apply and change only comments', () => {
    for (const edit of COMMENT_EDITS) {
      const changed = applyEdits(read, [edit], 'comment');
      const added = edit.to.replace(edit.from, '').trim();
      expect(added).toMatch(/^(\/\/|\/\*).*shadow-power/);
      expect(changed.get(edit.file)).not.toBe(read(edit.file));
    }
  });

  it('refuses an edit whose pattern moved, naming the file', () => {
    expect(() => applyEdits(read, [{ file: 'worker/src/tools/plan-next.ts', from: 'no such code', to: 'x' }], 'moved')).toThrow(
      /moved: worker\/src\/tools\/plan-next\.ts has 0 occurrence/,
    );
    expect(() => applyEdits(read, [{ file: 'controller/src/cli/main.ts', from: 'x', to: 'y' }], 'outside')).toThrow(/not under worker\/src/);
  });
});

describe('shadow-power classification', () => {
  const answer = (tool: string, path: string, verdict = 'regression'): Finding => ({ source: 'answer', tool, path, kind: 'changed_value', verdict, label: `${tool} ${path}` });
  const state = (table: string, column?: string): Finding => ({ source: 'state', table, ...(column ? { column } : {}), kind: 'changed', label: `state ${table}` });

  it('caught only when a finding matches the expected tool/path, table.column, schema or failure', () => {
    const byTable = { expect: [{ table: 'tasks', column: 'status' }] };
    expect(classify(byTable, [state('tasks', 'status')]).verdict).toBe('caught');
    expect(classify(byTable, [state('tasks', 'claimed_by')]).verdict).toBe('misattributed');
    expect(classify(byTable, []).verdict).toBe('missed');
    const byPath = { expect: [{ tool: 'plan_next', path: /^\$\.tasks/ }] };
    expect(classify(byPath, [answer('dispatch', '$.task.id'), answer('plan_next', '$.tasks[*].id')]).verdict).toBe('caught');
    expect(classify(byPath, [answer('plan_next', '$.ready_total')]).verdict).toBe('misattributed');
    const bySchema = { expect: [{ schema: 'critics.reputation' }] };
    expect(classify(bySchema, [{ source: 'schema', schema: 'critics.reputation', kind: 'changed', label: 's' }]).verdict).toBe('caught');
    expect(classify(bySchema, [{ source: 'schema', schema: 'critics.strictness', kind: 'changed', label: 's' }]).verdict).toBe('misattributed');
  });

  it('a single-group mutation needs exactly one finding; an unexpected failure is an error', () => {
    const rank = { expect: [{ tool: 'plan_next', path: /\.rank$/, verdict: 'addition' }], single: true };
    expect(classify(rank, [answer('plan_next', '$.tasks[*].rank', 'addition')]).verdict).toBe('caught');
    expect(classify(rank, [answer('plan_next', '$.tasks[*].rank', 'regression')]).verdict).toBe('misattributed');
    expect(classify(rank, [answer('plan_next', '$.tasks[*].rank', 'addition'), answer('plan_next', '$.tasks[*].id')]).verdict).toBe('misattributed');
    const failure: Finding = { source: 'failure', code: 'WVO_BUILD_FAILED', message: 'tsc', label: 'failed' };
    expect(classify(rank, [failure]).verdict).toBe('error');
    const leak = { expect: [{ failure: /DRY_RUN/, mentions: 'orchestrator.db' }] };
    expect(classify(leak, [{ ...failure, code: 'WVO_DRY_RUN_WROTE', message: 'lane x wrote orchestrator.db' }]).verdict).toBe('caught');
    expect(classify(leak, [{ ...failure, code: 'WVO_DRY_RUN_WROTE', message: 'lane x wrote something' }]).verdict).toBe('error');
  });
});
