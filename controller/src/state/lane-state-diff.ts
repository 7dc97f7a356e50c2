import { basename } from 'node:path';
import { compareOpenDatabases, parseIgnoreRules, type ParityReport } from './parity.js';
import { schemaDelta } from './schema-delta.js';
import { openReadOnly, type SqliteDatabase } from './sqlite-file.js';
import { buildStateDiff, type StateDatabaseDiff } from './state-diff.js';

/** One database file per lane, all copies of the same snapshot that the suite then ran against. */
export interface LaneStateFiles {
  readonly baseline: string;
  /** One or more; with none nothing can be told apart from noise, so every difference is reported. */
  readonly replicas: readonly string[];
  readonly candidate: string;
}

export interface LaneStateDiffOptions {
  /** `table.column` rules never compared (parity's syntax; `table.*` drops a table). */
  readonly ignore?: readonly string[];
  /** Example rows kept per group (default 3). */
  readonly examples?: number;
  /** Names the database in the result (default: the baseline file's name). */
  readonly database?: string;
}

/**
 * Compare the lanes' databases after a shadow suite (thin shell over parity and the pure
 * builder). Every file is opened read-only; each comparison reads both sides in one transaction.
 */
export function diffLaneStates(files: LaneStateFiles, options: LaneStateDiffOptions = {}): StateDatabaseDiff {
  const ignore = [...(options.ignore ?? [])];
  parseIgnoreRules(ignore); // a usage error before any file is opened
  const examples = options.examples ?? 3;
  // Shifted AUTOINCREMENT ids after one missing row are one difference, not one per later row.
  const parity = { ignore, maxDifferences: Math.max(examples, 1), columnDetail: true, alignSurrogateKeys: true };
  const opened: SqliteDatabase[] = [];
  const open = (path: string, role: string) => {
    const db = openReadOnly(path, role);
    opened.push(db);
    return db;
  };
  try {
    const baseline = open(files.baseline, 'baseline database');
    const candidate = open(files.candidate, 'candidate database');
    const primary = compareOpenDatabases(baseline, candidate, { a: files.baseline, b: files.candidate }, parity);
    const samples: ParityReport[] = files.replicas.map((path, i) =>
      compareOpenDatabases(baseline, open(path, `replica ${i + 1} database`), { a: files.baseline, b: path }, parity),
    );
    baseline.exec('BEGIN');
    candidate.exec('BEGIN');
    try {
      return buildStateDiff({
        database: options.database ?? basename(files.baseline),
        primary,
        samples,
        schema: schemaDelta(baseline, candidate),
        examples,
      });
    } finally {
      baseline.exec('COMMIT');
      candidate.exec('COMMIT');
    }
  } finally {
    for (const db of opened) db.close();
  }
}
