/**
 * The mutations bench/shadow-power.ts applies to a scratch copy of the worker, one at a time: each
 * a small, exact source edit of worker/src/** (a string that must occur exactly `count` times, so a
 * refactor that moves the code makes the bench fail loudly instead of testing nothing), and what a
 * shadow run must report for it to count as caught: the tool and answer path, the table.column,
 * the schema object, or the hard failure's code.
 */

export const MUTATION_KINDS = [
  'ordering',
  'fields',
  'error codes',
  'write-only',
  'missing events',
  'scoring',
  'defaults',
  'dry-run leak',
  'executor handling',
  'migrations',
  'added field',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface SourceEdit {
  /** Relative to the project root; always under worker/src/. */
  readonly file: string;
  readonly from: string;
  readonly to: string;
  /** How many times `from` must occur (all are replaced); default 1. */
  readonly count?: number;
}

export interface NewFile {
  readonly file: string;
  readonly content: string;
}

/**
 * One way of being caught and attributed. A mutation is attributed when any reported finding
 * matches any of its expectations.
 */
export type Expectation =
  /** A reported answer group of this tool; `path` tests the generalised path (`$.tasks[*].rank`). */
  | { readonly tool: string; readonly path?: RegExp; readonly kind?: string; readonly verdict?: string }
  /** A reported state group of this table (and column, for a changed value). */
  | { readonly table: string; readonly column?: string }
  /** A reported schema removal or change of this object (index, table, or `table.column`). */
  | { readonly schema: string }
  /** A hard failure with a code matching this, and (when given) a message naming this text. */
  | { readonly failure: RegExp; readonly mentions?: string };

export interface Mutation {
  readonly name: string;
  readonly kind: MutationKind;
  readonly description: string;
  readonly edits: readonly SourceEdit[];
  readonly creates?: readonly NewFile[];
  readonly expect: readonly Expectation[];
  /**
   * One logical change = one reported group: exactly one reported finding in the whole run, and
   * it must match `expect`.
   */
  readonly single?: boolean;
  /** Upgrade options this mutation needs (e.g. strict DRY_RUN lanes for the leak). */
  readonly options?: Readonly<Record<string, unknown>>;
}

const NEW_MIGRATION = 'worker/src/store/migrations/006-bench-drop-area-index.ts';

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'plan-order',
    kind: 'ordering',
    description: 'plan_next (and dispatch without task_id) list lowest priority first',
    edits: [{ file: 'worker/src/store/tasks.ts', from: 'ORDER BY t.priority DESC, t.id LIMIT ?', to: 'ORDER BY t.priority ASC, t.id LIMIT ?' }],
    expect: [{ tool: 'plan_next', path: /^\$\.tasks/ }],
  },
  {
    name: 'dispatch-field-renamed',
    kind: 'fields',
    description: "dispatch answers `agent_name` instead of `agent`",
    edits: [{ file: 'worker/src/tools/dispatch.ts', from: '        agent: input.agent,\n', to: '        agent_name: input.agent,\n' }],
    expect: [{ tool: 'dispatch', path: /^\$\.agent$/ }],
  },
  {
    name: 'status-field-dropped',
    kind: 'fields',
    description: 'orchestrator_status no longer answers `.queue.blocked`',
    edits: [
      { file: 'worker/src/operations/operations-manager.ts', from: 'ready, blocked: byStatus.open - ready, shadow_diffs', to: 'ready, shadow_diffs' },
      { file: 'worker/src/operations/operations-manager.ts', from: '  readonly blocked: number;\n', to: '' },
    ],
    expect: [{ tool: 'orchestrator_status', path: /^\$\.queue\.blocked$/ }],
  },
  {
    name: 'dispatch-error-code',
    kind: 'error codes',
    description: 'dispatch of an unknown task answers WVO_TASK_NOT_READY instead of WVO_TASK_NOT_FOUND',
    edits: [
      {
        file: 'worker/src/tools/dispatch.ts',
        from: '  if (!task) throw taskNotFound(taskId);\n',
        to: "  if (!task) throw new WorkerError('WVO_TASK_NOT_READY', `task ${taskId} is not ready`, { subject: 'task_id' });\n",
      },
    ],
    expect: [{ tool: 'dispatch', kind: 'error_code' }],
  },
  {
    name: 'report-retry-failed',
    kind: 'write-only',
    description: 'report stores a retried task as `failed` while answering status `open`',
    edits: [
      {
        file: 'worker/src/tools/report.ts',
        from: '      setTaskStatus(context.db, task.id, status, at);\n',
        to: "      setTaskStatus(context.db, task.id, input.outcome === 'retry' ? 'failed' : status, at);\n",
      },
    ],
    expect: [{ table: 'tasks', column: 'status' }],
  },
  {
    name: 'dispatched-event-dropped',
    kind: 'missing events',
    description: 'dispatch no longer writes its `dispatched` event row',
    edits: [
      {
        file: 'worker/src/tools/dispatch.ts',
        from: "      context.event({ at, kind: 'dispatched', taskId: task.id, payload: { dispatch_id: dispatchId, agent: input.agent } });\n",
        to: '',
      },
    ],
    expect: [{ table: 'events' }],
  },
  {
    name: 'critic-threshold',
    kind: 'scoring',
    description: "verify's critics want a higher share of passing checks (0.5 + s/2 → 0.5 + 0.75·s)",
    edits: [{ file: 'worker/src/operations/critics.ts', from: 'return 0.5 + strictness / 2;', to: 'return 0.5 + strictness * 0.75;' }],
    expect: [{ tool: 'verify', path: /critics/ }, { table: 'critic_history' }, { table: 'critics' }],
  },
  {
    name: 'flag-default',
    kind: 'defaults',
    description: "PROMPT_MODE's built-in default becomes `compact` (a state that sets the flag never reads it)",
    edits: [
      {
        file: 'worker/src/store/settings.ts',
        from: "DEFAULT_FLAGS: Flags = { PROMPT_MODE: 'standard',",
        to: "DEFAULT_FLAGS: Flags = { PROMPT_MODE: 'compact',",
      },
    ],
    expect: [{ tool: 'autopilot_status', path: /PROMPT_MODE/ }],
  },
  {
    name: 'token-budget-default',
    kind: 'defaults',
    description: 'the built-in token budget halves (the seeded state stores its own)',
    edits: [{ file: 'worker/src/store/settings.ts', from: 'DEFAULT_TOKEN_BUDGET = 200_000;', to: 'DEFAULT_TOKEN_BUDGET = 100_000;' }],
    expect: [{ tool: 'orchestrator_status', path: /^\$\.token_pressure\.budget$/ }],
  },
  {
    name: 'dry-run-leak',
    kind: 'dry-run leak',
    description: 'in DRY_RUN the worker writes its state file through a second SQLite connection',
    edits: [
      {
        file: 'worker/src/store/database.ts',
        from: '      const db = new Database(image);\n      applyConnectionPragmas(db);\n      return db;\n',
        to:
          '      const db = new Database(image);\n      applyConnectionPragmas(db);\n' +
          "      const leak = new Database(path);\n      leak.prepare(\"INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('BENCH_LEAK', 'x', '2025-01-01T00:00:00.000Z')\").run();\n      leak.close();\n" +
          '      return db;\n',
      },
    ],
    expect: [{ failure: /DRY_RUN/, mentions: 'orchestrator.db' }],
    // Sandbox lanes commit to their copies by design; the leak is DRY_RUN's broken promise.
    options: { strictDryRun: true },
  },
  {
    name: 'claim-ignores-agent',
    kind: 'executor handling',
    description: "dispatch claims the task for `agent` whatever the caller's agent name",
    edits: [{ file: 'worker/src/tools/dispatch.ts', from: 'claimTask(context.db, task.id, input.agent, at)', to: "claimTask(context.db, task.id, 'agent', at)" }],
    expect: [{ table: 'tasks', column: 'claimed_by' }],
  },
  {
    name: 'failed-check-succeeds',
    kind: 'executor handling',
    description: 'verify counts a check that exited non-zero as passing',
    edits: [
      {
        file: 'worker/src/tools/verify.ts',
        from: "ran.filter((result) => result.status === 'succeeded').length",
        to: "ran.filter((result) => result.status === 'succeeded' || result.status === 'failed').length",
      },
    ],
    expect: [{ tool: 'verify' }, { table: 'verifications' }],
  },
  {
    name: 'migration-drops-index',
    kind: 'migrations',
    description: 'a new migration (marked expand) drops the tasks_area index',
    creates: [
      {
        file: NEW_MIGRATION,
        content: `import type { Migration } from './migration.js';

export const m006BenchDropAreaIndex: Migration = {
  version: 6,
  name: 'bench_drop_area_index',
  kind: 'expand',
  up(db) {
    db.exec('DROP INDEX tasks_area');
  },
};
`,
      },
    ],
    edits: [
      {
        file: 'worker/src/store/migrations/index.ts',
        from: "import { m005Journal } from './005-journal.js';\n",
        to: "import { m005Journal } from './005-journal.js';\nimport { m006BenchDropAreaIndex } from './006-bench-drop-area-index.js';\n",
      },
      { file: 'worker/src/store/migrations/index.ts', from: 'm004ExecutorRuns, m005Journal];', to: 'm004ExecutorRuns, m005Journal, m006BenchDropAreaIndex];' },
    ],
    expect: [{ schema: 'tasks_area' }],
  },
  {
    name: 'migration-changes-default',
    kind: 'migrations',
    description: "the initial migration's default critic reputation changes (only a migrate-from-zero sees it)",
    edits: [{ file: 'worker/src/store/migrations/001-initial.ts', from: 'reputation REAL NOT NULL DEFAULT 0.5,', to: 'reputation REAL NOT NULL DEFAULT 0.75,' }],
    expect: [{ schema: 'critics.reputation' }],
  },
  {
    name: 'plan-rank-added',
    kind: 'added field',
    description: 'plan_next answers a new `rank` per task: one group, an addition',
    edits: [
      {
        file: 'worker/src/tools/plan-next.ts',
        from: 'const tasks = readyTasks(context.db, input.limit).map((task) => ({\n      id: task.id,\n',
        to: 'const tasks = readyTasks(context.db, input.limit).map((task, index) => ({\n      rank: index + 1,\n      id: task.id,\n',
      },
    ],
    expect: [{ tool: 'plan_next', path: /^\$\.tasks\[\*\]\.rank$/, verdict: 'addition' }],
    single: true,
  },
];

/** Comment-only edits for the no-op rebuilds (run i uses i mod length; odd runs change nothing). */
export const COMMENT_EDITS: readonly SourceEdit[] = [
  { file: 'worker/src/tools/plan-next.ts', from: "import { z } from 'zod';\n", to: "import { z } from 'zod';\n// shadow-power: a comment-only change\n" },
  { file: 'worker/src/tools/dispatch.ts', from: "import { z } from 'zod';\n", to: "import { z } from 'zod';\n/* shadow-power: a comment-only change */\n" },
  { file: 'worker/src/store/tasks.ts', from: "import type { Db } from './database.js';\n", to: "import type { Db } from './database.js';\n// shadow-power: a comment-only change\n" },
  { file: 'worker/src/operations/critics.ts', from: 'const round = ', to: '// shadow-power: a comment-only change\nconst round = ' },
  { file: 'worker/src/tools/verify.ts', from: "import { z } from 'zod';\n", to: "import { z } from 'zod';\n// shadow-power: a comment-only change\n" },
];

/** Applies edits to file contents held in memory; throws naming the edit when a pattern does not occur exactly `count` times. */
export function applyEdits(read: (file: string) => string, edits: readonly SourceEdit[], label: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const edit of edits) {
    if (!edit.file.startsWith('worker/src/')) throw new Error(`${label}: ${edit.file} is not under worker/src/`);
    const before = files.get(edit.file) ?? read(edit.file);
    const found = before.split(edit.from).length - 1;
    const want = edit.count ?? 1;
    if (found !== want) {
      throw new Error(`${label}: ${edit.file} has ${found} occurrence(s) of ${JSON.stringify(edit.from.slice(0, 80))}, expected ${want} (did the code move?)`);
    }
    files.set(edit.file, before.split(edit.from).join(edit.to));
  }
  return files;
}
