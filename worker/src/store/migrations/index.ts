import { m001Initial } from './001-initial.js';
import { m002CriticHistory } from './002-critic-history.js';
import { m003TaskArea } from './003-task-area.js';
import { m004ExecutorRuns } from './004-executor-runs.js';
import { m005Journal } from './005-journal.js';
import type { Migration } from './migration.js';

export type { Migration, MigrationKind } from './migration.js';
export { MIGRATION_KINDS } from './migration.js';

/**
 * The ordered list of migrations. To add one: write `NNN-name.ts` next to this file exporting a
 * `Migration` with the next version, mark it `expand` or `contract`, and append it here.
 */
export const MIGRATIONS: readonly Migration[] = [m001Initial, m002CriticHistory, m003TaskArea, m004ExecutorRuns, m005Journal];
