/**
 * Pure half of bench/shadow-power.ts: what an upgrade run reported (answer groups, state groups,
 * schema removals/changes, a failed rollback check, a hard failure), and whether that catches a
 * mutation and attributes it to the expected tool, table.column, schema object or failure code.
 */
import type { ShadowResult } from '../controller/src/shadow/index.js';
import type { UpgradeResult } from '../controller/src/harness/upgrade.js';
import type { Expectation, Mutation } from './shadow-power-mutations.js';

export interface Finding {
  readonly source: 'answer' | 'state' | 'schema' | 'compat' | 'failure';
  readonly tool?: string;
  readonly path?: string;
  readonly kind?: string;
  readonly verdict?: string;
  readonly table?: string;
  readonly column?: string;
  /** Schema object (`tasks_area`, `critics.reputation`). */
  readonly schema?: string;
  readonly code?: string;
  readonly message?: string;
  /** Which pass of the suite showed it (`snapshot`, `fresh`), when the run has more than one. */
  readonly pass?: string;
  /** One line for the table. */
  readonly label: string;
}

export type Verdict = 'caught' | 'missed' | 'misattributed' | 'error';

export interface Classification {
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /** Why, in a few words (what matched, or what was reported instead). */
  readonly note: string;
}

/** Everything a run reported, in report order. */
export function findingsOf(result: UpgradeResult, shadow: ShadowResult | undefined): Finding[] {
  const findings: Finding[] = [];
  if (result.outcome === 'failed') {
    const code = String(result.error?.code ?? 'unknown');
    const message = String(result.error?.message ?? '');
    findings.push({ source: 'failure', code, message, label: `failed ${code}: ${message.slice(0, 120)}` });
  }
  if (shadow) findings.push(...shadowFindings(shadow, 'snapshot'));
  if (result.schemaCompat && !result.schemaCompat.safe) {
    findings.push({ source: 'compat', message: result.schemaCompat.reason ?? '', label: `schema-compat: ${result.schemaCompat.reason ?? 'not rollback-safe'}` });
  }
  return findings;
}

const freshTag = (fresh: boolean) => (fresh ? ' [fresh state]' : '');

/** Reported answer groups, state groups and schema removals/changes of one shadow result. */
export function shadowFindings(shadow: ShadowResult, pass: string): Finding[] {
  const findings: Finding[] = [];
  // The fresh-state pass's calls are named `fresh: <call>` (issue 10 item 3).
  const freshCall = new Set(shadow.calls.filter((call) => call.name.startsWith('fresh: ')).map((call) => call.index));
  for (const group of shadow.groups.filter((g) => g.reported)) {
    const fresh = group.calls.length > 0 && group.calls.every((call) => freshCall.has(call.index));
    findings.push({
      source: 'answer',
      pass: fresh ? 'fresh' : pass,
      tool: group.tool,
      path: group.path,
      kind: group.kind,
      verdict: group.verdict,
      label: `${group.tool} ${group.path} ${group.kind} (${group.verdict}, ${group.count}×)${freshTag(fresh)}`,
    });
  }
  for (const database of shadow.state?.databases ?? []) {
    // The fresh-state pass's databases are named `fresh/<file>`.
    const dbPass = database.database.startsWith('fresh/') ? 'fresh' : pass;
    for (const group of database.groups.filter((g) => g.reported)) {
      const where = group.column ? `${group.table}.${group.column}` : group.table;
      findings.push({ source: 'state', pass: dbPass, table: group.table, ...(group.column ? { column: group.column } : {}), kind: group.kind, label: `state ${where} ${group.kind} (${group.rows} rows)${freshTag(dbPass === 'fresh')}` });
    }
    for (const [change, items] of [['removed', database.schema.removals], ['changed', database.schema.changes]] as const) {
      for (const item of items) {
        const schema = item.column ? `${item.name}.${item.column}` : item.name;
        findings.push({ source: 'schema', pass: dbPass, schema, kind: change, label: `schema ${item.type} ${schema} ${change}${freshTag(dbPass === 'fresh')}` });
      }
    }
  }
  return findings;
}

export function matches(finding: Finding, expectation: Expectation): boolean {
  if ('tool' in expectation) {
    return (
      finding.source === 'answer' &&
      finding.tool === expectation.tool &&
      (expectation.path === undefined || expectation.path.test(finding.path ?? '')) &&
      (expectation.kind === undefined || finding.kind === expectation.kind) &&
      (expectation.verdict === undefined || finding.verdict === expectation.verdict)
    );
  }
  if ('table' in expectation) {
    return finding.source === 'state' && finding.table === expectation.table && (expectation.column === undefined || finding.column === expectation.column);
  }
  if ('schema' in expectation) {
    return finding.source === 'schema' && (finding.schema === expectation.schema || finding.schema?.split('.')[0] === expectation.schema);
  }
  return (
    finding.source === 'failure' &&
    expectation.failure.test(finding.code ?? '') &&
    (expectation.mentions === undefined || (finding.message ?? '').includes(expectation.mentions))
  );
}

export function describeExpectation(expectation: Expectation): string {
  if ('tool' in expectation) {
    return [expectation.tool, expectation.path?.source, expectation.kind, expectation.verdict].filter(Boolean).join(' ');
  }
  if ('table' in expectation) return `state ${expectation.column ? `${expectation.table}.${expectation.column}` : expectation.table}`;
  if ('schema' in expectation) return `schema ${expectation.schema}`;
  return `failure ${expectation.failure.source}${expectation.mentions ? ` naming ${expectation.mentions}` : ''}`;
}

/**
 * caught: something matching an expectation was reported (and, for `single`, nothing else);
 * misattributed: something was reported, but not there (or more than one group); missed: nothing
 * reported; error: the run failed in a way no expectation names (a broken mutation, a harness bug).
 */
export function classify(mutation: Pick<Mutation, 'expect' | 'single'>, findings: readonly Finding[]): Classification {
  const failure = findings.find((f) => f.source === 'failure');
  const hit = findings.find((finding) => mutation.expect.some((expectation) => matches(finding, expectation)));
  if (failure && !hit) return { verdict: 'error', findings, note: failure.label };
  if (findings.length === 0) return { verdict: 'missed', findings, note: 'nothing reported' };
  if (!hit) return { verdict: 'misattributed', findings, note: `reported elsewhere: ${findings[0]!.label}` };
  if (mutation.single && findings.length !== 1) {
    return { verdict: 'misattributed', findings, note: `${findings.length} findings for one logical change (${hit.label})` };
  }
  return { verdict: 'caught', findings, note: hit.label };
}

/** A no-op rebuild is a false alarm when anything was reported or the run did not pass. */
export function isFalseAlarm(result: UpgradeResult, findings: readonly Finding[]): boolean {
  return result.outcome !== 'passed' || findings.length > 0;
}
