import { z } from 'zod';
import { columnInfo, describeColumn, isContentTable, schemaObjects, type SchemaObject } from './parity.js';
import type { SqliteDatabase } from './sqlite-file.js';

/**
 * How the candidate's schema differs from the baseline's, object by object and column by column.
 * Additions (tables, columns, indexes the candidate's migrations created) are what an expand
 * migration does; removals and changed declarations break old code and old data.
 */

export const SchemaItemSchema = z.strictObject({
  /** `table`, `column`, `index`, `trigger` or `view`. */
  type: z.string(),
  /** The table (or index/trigger/view) name. */
  name: z.string(),
  column: z.string().optional(),
  /** Declaration on each side, when it exists there. */
  baseline: z.string().optional(),
  candidate: z.string().optional(),
});

export const SchemaDeltaSchema = z.strictObject({
  additions: z.array(SchemaItemSchema),
  removals: z.array(SchemaItemSchema),
  changes: z.array(SchemaItemSchema),
});

export type SchemaItem = z.infer<typeof SchemaItemSchema>;
export type SchemaDelta = z.infer<typeof SchemaDeltaSchema>;

/** Compare two open databases' schemas (the caller holds a read transaction on each). */
export function schemaDelta(baseline: SqliteDatabase, candidate: SqliteDatabase): SchemaDelta {
  const before = schemaObjects(baseline);
  const after = schemaObjects(candidate);
  const delta: { additions: SchemaItem[]; removals: SchemaItem[]; changes: SchemaItem[] } = { additions: [], removals: [], changes: [] };
  for (const [name, object] of after) {
    if (!before.has(name)) delta.additions.push({ type: object.type, name, candidate: object.sql });
  }
  for (const [name, object] of before) {
    const other = after.get(name);
    if (!other) {
      delta.removals.push({ type: object.type, name, baseline: object.sql });
    } else if (bothContentTables(object, other)) {
      compareColumns(name, baseline, candidate, delta);
    } else if (object.type !== other.type || object.sql !== other.sql) {
      delta.changes.push({ type: object.type === other.type ? object.type : `${object.type}/${other.type}`, name, baseline: object.sql, candidate: other.sql });
    }
  }
  return delta;
}

function bothContentTables(a: SchemaObject, b: SchemaObject): boolean {
  return isContentTable(a) && isContentTable(b);
}

/** Column by column: an added column is an addition even though the table's SQL text changed. */
function compareColumns(
  table: string,
  baseline: SqliteDatabase,
  candidate: SqliteDatabase,
  delta: { additions: SchemaItem[]; removals: SchemaItem[]; changes: SchemaItem[] },
): void {
  const before = new Map(columnInfo(baseline, table).map((c) => [c.name, describeColumn(c)]));
  const after = new Map(columnInfo(candidate, table).map((c) => [c.name, describeColumn(c)]));
  for (const [column, declaration] of after) {
    if (!before.has(column)) delta.additions.push({ type: 'column', name: table, column, candidate: declaration });
  }
  for (const [column, declaration] of before) {
    const other = after.get(column);
    if (other === undefined) delta.removals.push({ type: 'column', name: table, column, baseline: declaration });
    else if (other !== declaration) delta.changes.push({ type: 'column', name: table, column, baseline: declaration, candidate: other });
  }
}
