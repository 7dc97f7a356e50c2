import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { dockerRuntimeFrom, fetchRemoteStateFile, parseRemoteStatePath, type DockerRuntime } from '../../runtime/index.js';
import { compareDatabases, type ParityReport, type RowDifference } from '../../state/index.js';
import { action, printResult, type OutputOptions } from '../output.js';

interface ParityCliOptions extends OutputOptions {
  ignore: string[];
  limit: string;
  config?: string;
}

/**
 * A database argument as a local path: `host:HOST:VOLUME/FILE` is fetched from that host's state
 * volume (with its -wal) into `work` first; anything else is already local.
 */
async function localCopy(arg: string, work: () => string, runtime: () => DockerRuntime): Promise<string> {
  const remote = parseRemoteStatePath(arg);
  if (!remote) return arg;
  const dir = join(work(), `${remote.host}-${remote.volume}`);
  mkdirSync(dir, { recursive: true });
  return fetchRemoteStateFile(runtime().host(remote.host), remote.volume, remote.file, dir);
}

/** `--ignore a.b --ignore c.d` and `--ignore a.b,c.d` both work. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

function formatRow(row: Record<string, unknown> | undefined): string {
  return row ? JSON.stringify(row) : '{}';
}

function formatDifference(d: RowDifference): string {
  const key = formatRow(d.key);
  if (d.kind === 'changed') return `changed ${key}: ${(d.columns ?? []).join(', ')}  A=${formatRow(d.a)}  B=${formatRow(d.b)}`;
  if (d.kind === 'only_in_a') return `only in A ${key}${d.a && Object.keys(d.a).length ? ` ${formatRow(d.a)}` : ''}`;
  return `only in B ${key}${d.b && Object.keys(d.b).length ? ` ${formatRow(d.b)}` : ''}`;
}

/** The human rendering: one line per table, details only where something differs. */
export function formatParityReport(report: ParityReport): string {
  const lines: string[] = [];
  const differing = report.tables.filter((t) => !t.equal);
  lines.push(`parity: ${report.a} vs ${report.b}: ${report.equal ? 'EQUAL' : 'DIFFER'}`);
  if (report.user_version.a !== report.user_version.b) {
    lines.push(`  user_version: ${report.user_version.a} vs ${report.user_version.b}`);
  }
  for (const name of report.schema.only_in_a) lines.push(`  schema: ${name} only in A`);
  for (const name of report.schema.only_in_b) lines.push(`  schema: ${name} only in B`);
  for (const change of report.schema.changed) lines.push(`  schema: ${change.type} ${change.name} differs\n    A: ${change.a}\n    B: ${change.b}`);
  for (const table of report.tables) {
    if (table.ignored) {
      lines.push(`  ${table.name}: ignored`);
      continue;
    }
    const rows = table.rows.a === table.rows.b ? `${table.rows.a} rows` : `rows ${table.rows.a} vs ${table.rows.b}`;
    const verdict = table.equal ? 'equal' : `DIFFER (${table.differing_rows} rows)`;
    lines.push(`  ${table.name}: ${rows}, ${verdict}, sha256 ${table.hash.a.slice(0, 12)}${table.equal ? '' : ` vs ${table.hash.b.slice(0, 12)}`}`);
    for (const difference of table.differences) lines.push(`    ${formatDifference(difference)}`);
    if (table.differing_rows > table.differences.length) lines.push(`    ... ${table.differing_rows - table.differences.length} more`);
  }
  lines.push(`${report.tables.length} tables compared, ${differing.length} differ`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('parity')
    .description(
      'Compare two SQLite state databases table by table (read-only). Exit 0 equal, 1 differ, 2 bad input.\n' +
        'Either may be a copy on a remote host: host:HOST:VOLUME/FILE (HOST from config hosts, VOLUME the\n' +
        "lane's state volume there, <project>-state-<lane>), e.g. wvo parity host:hostb:wvo-state-blue/orchestrator.db state/orchestrator.db",
    )
    .argument('<dbA>', 'first database file (or host:HOST:VOLUME/FILE)')
    .argument('<dbB>', 'second database file (or host:HOST:VOLUME/FILE)')
    .option('--config <file>', 'config file naming the hosts of host: paths (default ./wvo.config.json)')
    .option('--ignore <table.column>', 'leave a column out (repeatable or comma-separated; * matches any table or column)', collect, [])
    .option('--limit <n>', 'differing rows to show per table', '5')
    .option('--json', 'print the full report as JSON')
    .action(
      action(async (dbA: string, dbB: string, options: ParityCliOptions) => {
        const maxDifferences = Number.parseInt(options.limit, 10);
        let work: string | undefined;
        let runtime: DockerRuntime | undefined;
        const workDir = () => (work ??= mkdtempSync(join(tmpdir(), 'wvo-parity-')));
        const runtimeFor = () => {
          if (!runtime) {
            const loaded = loadConfig(options.config ? { file: options.config } : {});
            runtime = dockerRuntimeFrom(loaded.config, { baseDir: loaded.baseDir });
          }
          return runtime;
        };
        try {
          const [pathA, pathB] = [await localCopy(dbA, workDir, runtimeFor), await localCopy(dbB, workDir, runtimeFor)];
          const report = compareDatabases(pathA, pathB, {
            ignore: options.ignore,
            maxDifferences: Number.isFinite(maxDifferences) && maxDifferences >= 0 ? maxDifferences : 5,
          });
          // Name the inputs as given, not the temp copies.
          const named = { ...report, a: dbA, b: dbB };
          printResult(options, named, () => formatParityReport(named));
          return report.equal ? 0 : 1;
        } finally {
          await runtime?.close();
          if (work) rmSync(work, { recursive: true, force: true });
        }
      }),
    );
}
