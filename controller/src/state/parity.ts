import { createHash, type Hash } from 'node:crypto';
import { openReadOnly, quoteIdent, type SqliteDatabase } from './sqlite-file.js';
import { stateErrors } from './errors.js';

/**
 * The parity checker (seed P1): compares two SQLite databases table by table — schema, row
 * counts, a per-table content hash in a stable order, and the first differing rows by primary
 * key. Both files are opened read-only and scanned once, side by side (a merge join), so memory
 * stays flat on large databases.
 */

/** `table.column`; `*` matches any table or column (`*.updated_at`, `audit.*`). */
export interface IgnoreRule {
  readonly table: string;
  readonly column: string;
}

export interface ParityOptions {
  /** Rules as typed on the CLI: `table.column`. */
  readonly ignore?: readonly string[];
  /** How many differing rows to report per table (all are counted). Default 5. */
  readonly maxDifferences?: number;
  /**
   * Also tally changed rows per column (with up to maxDifferences examples each) and rows only in
   * one side: what a column-level noise model and a grouped report need. Off by default.
   */
  readonly columnDetail?: boolean;
  /**
   * A table keyed by an integer surrogate (`INTEGER PRIMARY KEY`, AUTOINCREMENT ids) where one
   * side skipped or added a row has every later id shifted. When matching such a table by its
   * other columns explains the difference with fewer rows, report that (`surrogate_key` names the
   * column left out). Off by default: parity proper compares ids too.
   */
  readonly alignSurrogateKeys?: boolean;
}

/** One changed cell: the row's key and the column's value on each side. */
export interface CellDifference {
  readonly key: Record<string, JsonCell>;
  readonly a: JsonCell;
  readonly b: JsonCell;
}

/** Per column of one table: how many matched rows differ there, and the first few. */
export interface ColumnDifference {
  readonly rows: number;
  readonly examples: readonly CellDifference[];
}

export const ROW_DIFFERENCE_KINDS = ['changed', 'only_in_a', 'only_in_b'] as const;
export type RowDifferenceKind = (typeof ROW_DIFFERENCE_KINDS)[number];

/** A value made JSON-safe: big integers as strings, blobs as `x'hex'`. */
export type JsonCell = string | number | null;

export interface RowDifference {
  readonly kind: RowDifferenceKind;
  /** The primary key (or, for keyless tables, the whole row) identifying the row. */
  readonly key: Record<string, JsonCell>;
  readonly a?: Record<string, JsonCell>;
  readonly b?: Record<string, JsonCell>;
  /** For `changed`: the columns whose values differ. */
  readonly columns?: readonly string[];
}

export interface TableParity {
  readonly name: string;
  readonly equal: boolean;
  /** `true` when an ignore rule `table.*` excluded the whole table. */
  readonly ignored: boolean;
  readonly rows: { readonly a: number; readonly b: number };
  readonly hash: { readonly a: string; readonly b: string };
  readonly columns: readonly string[];
  /** Primary-key columns the rows are ordered and matched by; empty = matched by whole content. */
  readonly key: readonly string[];
  readonly differing_rows: number;
  readonly differences: readonly RowDifference[];
  /** With `columnDetail`: changed cells by column name. */
  readonly column_differences?: Readonly<Record<string, ColumnDifference>>;
  /** With `columnDetail`: rows only in a / only in b (counted; examples are in `differences`). */
  readonly only_in?: { readonly a: number; readonly b: number };
  /** With `alignSurrogateKeys`: the integer key column rows were matched without (ids shifted). */
  readonly surrogate_key?: string;
}

export interface SchemaChange {
  readonly name: string;
  readonly type: string;
  readonly a: string;
  readonly b: string;
}

export interface ParityReport {
  readonly equal: boolean;
  readonly a: string;
  readonly b: string;
  readonly ignore: readonly string[];
  readonly user_version: { readonly a: number; readonly b: number };
  readonly schema: {
    readonly equal: boolean;
    readonly only_in_a: readonly string[];
    readonly only_in_b: readonly string[];
    readonly changed: readonly SchemaChange[];
  };
  readonly tables: readonly TableParity[];
}

/** Parse `table.column` rules (split at the last dot); a malformed rule is a usage error. */
export function parseIgnoreRules(rules: readonly string[]): IgnoreRule[] {
  return rules.map((rule) => {
    const dot = rule.lastIndexOf('.');
    const table = rule.slice(0, dot);
    const column = rule.slice(dot + 1);
    if (dot <= 0 || column === '') {
      throw stateErrors.create('WVO_PARITY_IGNORE_INVALID', `ignore rule is not table.column: "${rule}"`, {
        subject: '--ignore',
        hint: 'Write rules as table.column, e.g. --ignore tasks.updated_at (use * for any table or column).',
      });
    }
    return { table, column };
  });
}

function isIgnored(rules: readonly IgnoreRule[], table: string, column: string): boolean {
  return rules.some(
    (r) => (r.table === '*' || r.table === table) && (r.column === '*' || r.column === column),
  );
}

/** `table.*` (or `*.*`) drops the whole table from the comparison. */
function isTableIgnored(rules: readonly IgnoreRule[], table: string): boolean {
  return rules.some((r) => r.column === '*' && (r.table === '*' || r.table === table));
}

export interface SchemaObject {
  readonly type: string;
  readonly name: string;
  readonly sql: string;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly notnull: number;
  readonly dflt_value: string | null;
  readonly pk: number;
  readonly hidden: number;
}

export function schemaObjects(db: SqliteDatabase): Map<string, SchemaObject> {
  // sqlite_sequence is state (AUTOINCREMENT counters); sqlite_stat* and autoindexes are not.
  const rows = db
    .prepare(
      `SELECT type, name, coalesce(sql, '') AS sql FROM sqlite_schema
       WHERE name NOT LIKE 'sqlite_%' OR name = 'sqlite_sequence' ORDER BY name`,
    )
    .all() as SchemaObject[];
  return new Map(rows.map((row) => [row.name, { ...row, sql: row.sql.replace(/\s+/g, ' ').trim() }]));
}

export function columnInfo(db: SqliteDatabase, table: string): ColumnInfo[] {
  return db.prepare(`PRAGMA table_xinfo(${quoteIdent(table)})`).all() as ColumnInfo[];
}

/** `name TYPE NOT NULL DEFAULT x PK1`: a column's declaration, for comparing and showing. */
export function describeColumn(c: ColumnInfo): string {
  return `${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.dflt_value === null ? '' : ` DEFAULT ${c.dflt_value}`}${c.pk ? ` PK${c.pk}` : ''}`;
}

function describeColumns(columns: readonly ColumnInfo[]): string {
  return columns.map(describeColumn).join(', ');
}

export function isContentTable(object: SchemaObject): boolean {
  return object.type === 'table' && !/^CREATE VIRTUAL TABLE/i.test(object.sql);
}

function compareSchemas(
  a: Map<string, SchemaObject>,
  b: Map<string, SchemaObject>,
  dbA: SqliteDatabase,
  dbB: SqliteDatabase,
  rules: readonly IgnoreRule[],
): ParityReport['schema'] {
  const onlyInA = [...a.keys()].filter((name) => !b.has(name) && !isTableIgnored(rules, name));
  const onlyInB = [...b.keys()].filter((name) => !a.has(name) && !isTableIgnored(rules, name));
  const changed: SchemaChange[] = [];
  for (const [name, objA] of a) {
    const objB = b.get(name);
    if (!objB) continue;
    if (objA.type !== objB.type) {
      changed.push({ name, type: `${objA.type}/${objB.type}`, a: objA.sql, b: objB.sql });
      continue;
    }
    if (objA.type !== 'table' || isContentTable(objA) !== isContentTable(objB)) {
      if (objA.sql !== objB.sql) changed.push({ name, type: objA.type, a: objA.sql, b: objB.sql });
      continue;
    }
    if (isTableIgnored(rules, name)) continue;
    // Tables: ignored columns may come and go; the rest must match column for column.
    const keep = (c: ColumnInfo) => !isIgnored(rules, name, c.name);
    const colsA = describeColumns(columnInfo(dbA, name).filter(keep));
    const colsB = describeColumns(columnInfo(dbB, name).filter(keep));
    const touchedByRules = rules.some((r) => r.table === '*' || r.table === name);
    if (colsA !== colsB) changed.push({ name, type: 'table', a: colsA, b: colsB });
    else if (!touchedByRules && objA.sql !== objB.sql) changed.push({ name, type: 'table', a: objA.sql, b: objB.sql });
  }
  return {
    equal: onlyInA.length === 0 && onlyInB.length === 0 && changed.length === 0,
    only_in_a: onlyInA,
    only_in_b: onlyInB,
    changed,
  };
}

type Cell = null | bigint | number | string | Buffer;
type Row = Cell[];

const TYPE_RANK = (v: Cell): number =>
  v === null ? 0 : typeof v === 'bigint' || typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : 3;

/** SQLite's BINARY-collation order (NULL < numbers < text < blob), to merge two ordered scans. */
export function compareCells(x: Cell, y: Cell): number {
  const rank = TYPE_RANK(x) - TYPE_RANK(y);
  if (rank !== 0) return rank;
  if (x === null || y === null) return 0;
  if (typeof x === 'string' && typeof y === 'string') {
    // BINARY compares UTF-8 bytes; JS compares UTF-16 units, which disagree above U+D800.
    return x === y ? 0 : Buffer.compare(Buffer.from(x, 'utf8'), Buffer.from(y, 'utf8'));
  }
  if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) return Buffer.compare(x, y);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Exact equality, type included (INTEGER 1 and REAL 1.0 differ in storage, so they differ here). */
function sameCell(x: Cell, y: Cell): boolean {
  if (Buffer.isBuffer(x) || Buffer.isBuffer(y)) return Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y);
  return typeof x === typeof y && (x === y || (typeof x === 'number' && Object.is(x, y)));
}

function hashRow(hash: Hash, row: Row): void {
  for (const cell of row) {
    if (cell === null) hash.update('N;');
    else if (typeof cell === 'bigint') hash.update(`I${cell};`);
    else if (typeof cell === 'number') hash.update(`R${Object.is(cell, -0) ? '-0' : String(cell)};`);
    else if (typeof cell === 'string') hash.update(`T${Buffer.byteLength(cell)}:`).update(cell);
    else hash.update(`B${cell.length}:`).update(cell);
  }
  hash.update('\n');
}

export function toJsonCell(cell: Cell): JsonCell {
  if (typeof cell === 'bigint') {
    return cell <= BigInt(Number.MAX_SAFE_INTEGER) && cell >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(cell) : cell.toString();
  }
  if (Buffer.isBuffer(cell)) return `x'${cell.toString('hex')}'`;
  return cell;
}

function pick(columns: readonly string[], indexes: readonly number[], row: Row): Record<string, JsonCell> {
  return Object.fromEntries(indexes.map((i) => [columns[i]!, toJsonCell(row[i]!)]));
}

function primaryKey(columns: readonly ColumnInfo[]): string[] {
  return columns
    .filter((c) => c.pk > 0)
    .sort((x, y) => x.pk - y.pk)
    .map((c) => c.name);
}

function compareTableAligned(
  name: string,
  dbA: SqliteDatabase,
  dbB: SqliteDatabase,
  rules: readonly IgnoreRule[],
  maxDifferences: number,
  options: ParityOptions,
): TableParity {
  const keyed = compareTable(name, dbA, dbB, rules, maxDifferences, options.columnDetail);
  if (!options.alignSurrogateKeys || keyed.differing_rows < 2) return keyed;
  const surrogate = surrogateKey(columnInfo(dbA, name), keyed.key);
  if (surrogate === undefined) return keyed;
  const byContent = compareTable(name, dbA, dbB, rules, maxDifferences, options.columnDetail, surrogate);
  return byContent.differing_rows < keyed.differing_rows ? { ...byContent, surrogate_key: surrogate } : keyed;
}

/** The table's key when it is one INTEGER column (a rowid alias: ids handed out in order). */
function surrogateKey(info: readonly ColumnInfo[], key: readonly string[]): string | undefined {
  if (key.length !== 1) return undefined;
  const column = info.find((c) => c.name === key[0]);
  return column !== undefined && column.type.toUpperCase() === 'INTEGER' ? column.name : undefined;
}

function compareTable(
  name: string,
  dbA: SqliteDatabase,
  dbB: SqliteDatabase,
  rules: readonly IgnoreRule[],
  maxDifferences: number,
  columnDetail = false,
  without?: string,
): TableParity {
  const infoA = columnInfo(dbA, name).filter((c) => c.hidden === 0 || c.hidden > 1);
  const infoB = columnInfo(dbB, name).filter((c) => c.hidden === 0 || c.hidden > 1);
  const namesB = new Set(infoB.map((c) => c.name));
  const columns = infoA.map((c) => c.name).filter((c) => namesB.has(c) && c !== without && !isIgnored(rules, name, c));
  // sqlite_sequence declares no key, but holds one counter per table name.
  const pkA = name === 'sqlite_sequence' ? ['name'] : primaryKey(infoA);
  const pkB = name === 'sqlite_sequence' ? ['name'] : primaryKey(infoB);
  // Match rows by primary key when both sides declare the same one and none of it is ignored;
  // otherwise by whole content (rowids are not stable across VACUUM for keyless tables).
  const keyed = pkA.length > 0 && pkA.join('\0') === pkB.join('\0') && pkA.every((c) => columns.includes(c));
  const key = keyed ? pkA : [];
  const orderBy = keyed ? pkA : columns;
  const keyIndexes = (keyed ? pkA : columns).map((c) => columns.indexOf(c));
  const valueIndexes = columns.map((_, i) => i).filter((i) => !keyIndexes.includes(i));

  const select = columns.length === 0 ? 'NULL' : columns.map(quoteIdent).join(', ');
  const order = orderBy.length === 0 ? '' : ` ORDER BY ${orderBy.map((c) => `${quoteIdent(c)} COLLATE BINARY`).join(', ')}`;
  const sql = `SELECT ${select} FROM ${quoteIdent(name)}${order}`;
  const rowsA = dbA.prepare(sql).raw(true).safeIntegers(true).iterate() as IterableIterator<Row>;
  const rowsB = dbB.prepare(sql).raw(true).safeIntegers(true).iterate() as IterableIterator<Row>;
  const hashA = createHash('sha256');
  const hashB = createHash('sha256');
  const differences: RowDifference[] = [];
  let countA = 0;
  let countB = 0;
  let differing = 0;
  const byColumn = new Map<string, { rows: number; examples: CellDifference[] }>();
  const onlyIn = { a: 0, b: 0 };
  const tallyCells = (rowA: Row, rowB: Row, changed: readonly number[]) => {
    for (const i of changed) {
      const column = byColumn.get(columns[i]!) ?? { rows: 0, examples: [] };
      byColumn.set(columns[i]!, column);
      column.rows += 1;
      if (column.examples.length < maxDifferences) {
        column.examples.push({ key: pick(columns, keyIndexes, rowA), a: toJsonCell(rowA[i]!), b: toJsonCell(rowB[i]!) });
      }
    }
  };
  const record = (difference: () => RowDifference) => {
    differing += 1;
    if (differences.length < maxDifferences) differences.push(difference());
  };
  const nextA = () => {
    const { value, done } = rowsA.next();
    if (done) return undefined;
    countA += 1;
    hashRow(hashA, value);
    return value;
  };
  const nextB = () => {
    const { value, done } = rowsB.next();
    if (done) return undefined;
    countB += 1;
    hashRow(hashB, value);
    return value;
  };
  const compareKeys = (x: Row, y: Row) => {
    for (const i of keyIndexes) {
      const c = compareCells(x[i]!, y[i]!);
      if (c !== 0) return c;
    }
    return 0;
  };

  try {
    let a = nextA();
    let b = nextB();
    while (a !== undefined || b !== undefined) {
      const order = a === undefined ? 1 : b === undefined ? -1 : compareKeys(a, b);
      if (order === 0 && a !== undefined && b !== undefined) {
        const rowA = a;
        const rowB = b;
        const changed = columns.map((_, i) => i).filter((i) => !sameCell(rowA[i]!, rowB[i]!));
        // Content-matched rows compare equal by ordering only when identical; keyed rows may not.
        if (changed.length > 0) {
          tallyCells(rowA, rowB, changed);
          record(() => ({
            kind: 'changed',
            key: pick(columns, keyIndexes, rowA),
            a: pick(columns, valueIndexes, rowA),
            b: pick(columns, valueIndexes, rowB),
            columns: changed.map((i) => columns[i]!),
          }));
        }
        a = nextA();
        b = nextB();
      } else if (order < 0 && a !== undefined) {
        const rowA = a;
        onlyIn.a += 1;
        record(() => ({ kind: 'only_in_a', key: pick(columns, keyIndexes, rowA), a: pick(columns, valueIndexes, rowA) }));
        a = nextA();
      } else if (b !== undefined) {
        const rowB = b;
        onlyIn.b += 1;
        record(() => ({ kind: 'only_in_b', key: pick(columns, keyIndexes, rowB), b: pick(columns, valueIndexes, rowB) }));
        b = nextB();
      }
    }
  } finally {
    rowsA.return?.();
    rowsB.return?.();
  }

  const digestA = hashA.digest('hex');
  const digestB = hashB.digest('hex');
  return {
    name,
    equal: differing === 0 && countA === countB && digestA === digestB,
    ignored: false,
    rows: { a: countA, b: countB },
    hash: { a: digestA, b: digestB },
    columns,
    key,
    differing_rows: differing,
    differences,
    ...(columnDetail ? { column_differences: Object.fromEntries(byColumn), only_in: onlyIn } : {}),
  };
}

function ignoredTable(name: string): TableParity {
  return {
    name,
    equal: true,
    ignored: true,
    rows: { a: 0, b: 0 },
    hash: { a: '', b: '' },
    columns: [],
    key: [],
    differing_rows: 0,
    differences: [],
  };
}

/** Compare two open databases (the caller owns the connections). */
export function compareOpenDatabases(
  dbA: SqliteDatabase,
  dbB: SqliteDatabase,
  labels: { a: string; b: string },
  options: ParityOptions = {},
): ParityReport {
  const ignore = options.ignore ?? [];
  const rules = parseIgnoreRules(ignore);
  const maxDifferences = options.maxDifferences ?? 5;
  // One read transaction per side: every table is read at the same moment even if a writer commits.
  dbA.exec('BEGIN');
  dbB.exec('BEGIN');
  try {
    const objectsA = schemaObjects(dbA);
    const objectsB = schemaObjects(dbB);
    const schema = compareSchemas(objectsA, objectsB, dbA, dbB, rules);
    const tables = [...objectsA.values()]
      .filter((obj) => isContentTable(obj) && objectsB.get(obj.name)?.type === 'table' && isContentTable(objectsB.get(obj.name)!))
      .map((obj) =>
        isTableIgnored(rules, obj.name)
          ? ignoredTable(obj.name)
          : compareTableAligned(obj.name, dbA, dbB, rules, maxDifferences, options),
      );
    const userVersion = {
      a: dbA.pragma('user_version', { simple: true }) as number,
      b: dbB.pragma('user_version', { simple: true }) as number,
    };
    return {
      equal: schema.equal && userVersion.a === userVersion.b && tables.every((t) => t.equal),
      a: labels.a,
      b: labels.b,
      ignore: [...ignore],
      user_version: userVersion,
      schema,
      tables,
    };
  } finally {
    dbA.exec('COMMIT');
    dbB.exec('COMMIT');
  }
}

/** Compare two database files, both opened read-only. */
export function compareDatabases(pathA: string, pathB: string, options: ParityOptions = {}): ParityReport {
  parseIgnoreRules(options.ignore ?? []); // usage errors before touching any file
  const dbA = openReadOnly(pathA, 'database A');
  try {
    const dbB = openReadOnly(pathB, 'database B');
    try {
      return compareOpenDatabases(dbA, dbB, { a: pathA, b: pathB }, options);
    } finally {
      dbB.close();
    }
  } finally {
    dbA.close();
  }
}
