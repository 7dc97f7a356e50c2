import { resolve } from 'node:path';
import { createLogger } from '../../../common/src/logger.js';
import { loadConfig } from '../config/index.js';
import { FleetControl, type FleetRecord, type FleetStatus } from '../fleet/index.js';
import { progressLogger } from '../operations/index.js';
import { formatDuration } from '../promotion/index.js';

/** Open the fleet from config (targets checked before anything connects); progress lines to stderr unless --json. */
export function openFleetControl(flags: { config?: string; json?: boolean }, name: string): FleetControl {
  const loaded = loadConfig(flags.config ? { file: flags.config } : {});
  return new FleetControl({
    config: loaded.config,
    projectRoot: loaded.baseDir,
    stateRoot: resolve(loaded.baseDir, loaded.config.stateRoot),
    logger: flags.json ? createLogger(`wvo-${name}`) : progressLogger(`[${name}]`, (line) => process.stderr.write(`${line}\n`)),
  });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const seconds = (from: number | null, to: number | null) => (from !== null && to !== null ? `${((to - from) / 1000).toFixed(1)} s` : '-');

/** A wave's planned size and observe window (`1 deployment, observe 10m`); older records lack both. */
function wavePlan(record: FleetRecord, wave: FleetRecord['waves'][number]): string {
  const size = wave.size ?? record.members.filter((m) => m.wave === wave.index).length;
  const observe = wave.observeMs ? formatDuration(wave.observeMs) : 'the promotion\'s';
  return `${size} deployment${size === 1 ? '' : 's'}, observe ${observe}`;
}

/** The waves of a fleet record, one line each: plan, members, time taken. */
export function renderWaves(record: FleetRecord): string[] {
  return record.waves.map((w) => `  wave ${w.index + 1} (${wavePlan(record, w)}): ${record.members.filter((m) => m.wave === w.index).map((m) => m.name).join(', ')} (${seconds(w.startedAt, w.finishedAt)})`);
}

/** One fleet promotion: its state, waves with their size, window and timings, a row per deployment. */
export function renderFleetRecord(record: FleetRecord): string {
  const head = `fleet ${record.id} (upgrade ${record.upgradeId} → ${record.candidateImage}): ${record.state}${record.reason ? `: ${record.reason}` : ''}`;
  const waves = renderWaves(record);
  const rows = [['DEPLOYMENT', 'WAVE', 'STATE', 'FROM', 'TO', 'DEPLOYMENT ID', 'REASON'], ...record.members.map((m) => [m.name, String(m.wave + 1), m.state, m.baselineImage ?? '-', m.candidateImage, m.deploymentId ?? '-', m.reason ?? ''])];
  return [head, `waves: ${record.waves.length} (sizes ${record.waveSpec ?? record.waveSize}), boot limit ${record.bootLimit}, pause ${record.pauseMs / 1000} s, on failure: ${record.onFailure}`, ...waves, table(rows)].join('\n');
}

/** `wvo status --fleet`: what each deployment serves now, and its part in the newest fleet promotion. */
export function renderFleetStatus(status: FleetStatus): string {
  const rows = [
    ['DEPLOYMENT', 'WHERE', 'APP', 'SERVING', 'VERSION', 'FLEET STATE', 'WAVE'],
    ...status.deployments.map((d) => [d.name, d.where, d.app, d.serving.lane ?? (d.serving.error ? 'unreachable' : '-'), d.serving.image ?? '-', d.state ?? '-', d.wave === null ? '-' : String(d.wave)]),
  ];
  const fleet = status.fleet ? `last fleet promotion: ${status.fleet.id} ${status.fleet.state} (upgrade ${status.fleet.upgradeId})` : 'no fleet promotion yet';
  const errors = status.deployments.filter((d) => d.serving.error).map((d) => `  ${d.name}: ${d.serving.error}`);
  return [table(rows), fleet, ...(status.fleet ? renderWaves(status.fleet) : []), ...(errors.length ? ['unreachable:', ...errors] : [])].join('\n');
}
