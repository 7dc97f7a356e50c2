import { z } from 'zod';
import type { JsonCell, ParityReport, TableParity } from './parity.js';
import { SchemaDeltaSchema, type SchemaDelta } from './schema-delta.js';

/**
 * The state diff of a shadow run (pure half): candidate vs baseline, table by table and row by
 * row, with baseline vs each replica as noise at the column level. A `table.column` that also
 * differs between the baseline and any replica is noise (clocks, random ids); the table's other
 * columns are still compared. Rows only in one side are noise when a replica shows rows only in
 * the same side of the same table.
 */

export const STATE_GROUP_KINDS = ['changed', 'only_in_baseline', 'only_in_candidate'] as const;
export const STATE_VERDICTS = ['regression', 'noise'] as const;

const Cell = z.union([z.string(), z.number(), z.null()]);
const Row = z.record(z.string(), Cell);

export const StateGroupSchema = z.strictObject({
  table: z.string(),
  /** For `changed`: the column; rows only in one side have none. */
  column: z.string().optional(),
  kind: z.enum(STATE_GROUP_KINDS),
  verdict: z.enum(STATE_VERDICTS),
  reported: z.boolean(),
  /** Rows in the group (all counted; `examples` holds the first few). */
  rows: z.number().int().min(1),
  examples: z.array(
    z.strictObject({
      key: Row,
      /** `changed`: the column's value; rows only in one side: the row's other columns. */
      baseline: z.union([Cell, Row]).optional(),
      candidate: z.union([Cell, Row]).optional(),
    }),
  ),
  reason: z.string(),
});

export const StateDatabaseDiffSchema = z.strictObject({
  /** Which database: its file name in the lane's state directory. */
  database: z.string(),
  /** How many replica databases the noise was learned from. */
  samples: z.number().int().min(0),
  user_version: z.strictObject({ baseline: z.number().int(), candidate: z.number().int() }),
  /** Additions are expected of expand migrations and are listed, never counted as regressions. */
  schema: SchemaDeltaSchema,
  groups: z.array(StateGroupSchema),
  /** Columns the replicas differ in (`table.column`): the noise learned, cancelling the candidate's there. */
  noisy_columns: z.array(z.string()),
  /** Reported groups + schema removals + schema changes: what this database adds to the count. */
  reported: z.number().int().min(0),
});

export const StateSectionSchema = z.strictObject({
  databases: z.array(StateDatabaseDiffSchema),
  /** Sum of the databases' `reported`. */
  reported: z.number().int().min(0),
});

export type StateGroup = z.infer<typeof StateGroupSchema>;
export type StateDatabaseDiff = z.infer<typeof StateDatabaseDiffSchema>;
export type StateSection = z.infer<typeof StateSectionSchema>;

export interface BuildStateDiffInput {
  readonly database: string;
  /** a = baseline, b = candidate, compared with `columnDetail`. */
  readonly primary: ParityReport;
  /** a = baseline, b = replica, one per replica, compared with `columnDetail`. */
  readonly samples: readonly ParityReport[];
  readonly schema: SchemaDelta;
  /** Examples kept per group. */
  readonly examples: number;
}

export function buildStateDiff(input: BuildStateDiffInput): StateDatabaseDiff {
  const noise = learnStateNoise(input.samples);
  const groups: StateGroup[] = [];
  for (const table of input.primary.tables) {
    if (table.ignored) continue;
    groups.push(...tableGroups(table, noise, input.examples));
  }
  const ordered = [...groups.filter((g) => g.reported), ...groups.filter((g) => !g.reported)];
  const reported = ordered.filter((g) => g.reported).length + input.schema.removals.length + input.schema.changes.length;
  return {
    database: input.database,
    samples: input.samples.length,
    user_version: { baseline: input.primary.user_version.a, candidate: input.primary.user_version.b },
    schema: input.schema,
    groups: ordered,
    noisy_columns: [...noise.columns].sort(),
    reported,
  };
}

export function stateSection(databases: readonly StateDatabaseDiff[]): StateSection {
  return { databases: [...databases], reported: databases.reduce((sum, db) => sum + db.reported, 0) };
}

interface StateNoise {
  /** `table.column` that differ in some replica. */
  readonly columns: ReadonlySet<string>;
  /** `table` → rows only in baseline / only in a replica were seen. */
  readonly onlyInBaseline: ReadonlySet<string>;
  readonly onlyInSample: ReadonlySet<string>;
}

function learnStateNoise(samples: readonly ParityReport[]): StateNoise {
  const columns = new Set<string>();
  const onlyInBaseline = new Set<string>();
  const onlyInSample = new Set<string>();
  for (const sample of samples) {
    for (const table of sample.tables) {
      for (const column of Object.keys(table.column_differences ?? {})) columns.add(`${table.name}.${column}`);
      if ((table.only_in?.a ?? 0) > 0) onlyInBaseline.add(table.name);
      if ((table.only_in?.b ?? 0) > 0) onlyInSample.add(table.name);
    }
  }
  return { columns, onlyInBaseline, onlyInSample };
}

function tableGroups(table: TableParity, noise: StateNoise, examples: number): StateGroup[] {
  const groups: StateGroup[] = [];
  for (const [column, change] of Object.entries(table.column_differences ?? {})) {
    const noisy = noise.columns.has(`${table.name}.${column}`);
    groups.push({
      table: table.name,
      column,
      kind: 'changed',
      ...verdict(noisy),
      rows: change.rows,
      examples: change.examples.slice(0, examples).map((cell) => ({ key: cell.key, baseline: cell.a, candidate: cell.b })),
      reason: noisy
        ? 'a replica differs from the baseline in this column too'
        : 'baseline and replicas agree; the candidate wrote a different value',
    });
  }
  const sides = [
    { kind: 'only_in_baseline', count: table.only_in?.a ?? 0, noisy: noise.onlyInBaseline.has(table.name), diff: 'only_in_a', what: 'the candidate lacks rows the baseline has' },
    { kind: 'only_in_candidate', count: table.only_in?.b ?? 0, noisy: noise.onlyInSample.has(table.name), diff: 'only_in_b', what: 'the candidate has rows the baseline lacks' },
  ] as const;
  for (const side of sides) {
    if (side.count === 0) continue;
    groups.push({
      table: table.name,
      kind: side.kind,
      ...verdict(side.noisy),
      rows: side.count,
      examples: table.differences
        .filter((d) => d.kind === side.diff)
        .slice(0, examples)
        .map((d) => ({ key: d.key, ...(d.a ? { baseline: d.a as Record<string, JsonCell> } : {}), ...(d.b ? { candidate: d.b as Record<string, JsonCell> } : {}) })),
      reason: side.noisy ? `${side.what}, and so does a replica` : side.what,
    });
  }
  return groups;
}

function verdict(noisy: boolean): Pick<StateGroup, 'verdict' | 'reported'> {
  return noisy ? { verdict: 'noise', reported: false } : { verdict: 'regression', reported: true };
}
