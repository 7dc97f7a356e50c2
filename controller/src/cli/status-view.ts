import type { ActiveSource, ControllerStatus } from '../operations/index.js';

const ACTIVE_FROM: Record<ActiveSource, string> = { proxy: "the proxy's routes", runtime: 'the live lane', worker_manager: 'the last switch' };

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Human rendering: a lanes table, then one line per fact. */
export function renderStatus(s: ControllerStatus): string {
  const lines: string[] = [];
  lines.push(`runtime   ${s.runtime}    state ${s.state_root}`);
  lines.push('');
  if (s.lanes.length === 0) lines.push('lanes     (none running)');
  else {
    const marked = s.lanes.map((l) => [
      `${l.name}${s.active?.lane === l.name ? ' *' : ''}`,
      l.role,
      l.status,
      l.image,
      l.url ?? '-',
    ]);
    lines.push(table([['LANE', 'ROLE', 'STATUS', 'IMAGE', 'URL'], ...marked]));
  }
  lines.push('');
  lines.push(
    s.active
      ? `active    ${s.active.lane}  version ${s.active.version ?? s.active.image ?? '?'}  (from ${ACTIVE_FROM[s.active.source]})${s.active.last_switch ? `  (switched ${s.active.last_switch.from} → ${s.active.last_switch.to} at ${s.active.last_switch.at})` : ''}`
      : 'active    (unknown: no proxy answered, no single ready live lane, no switch recorded)',
  );
  lines.push(
    s.deployment
      ? `deploy    ${s.deployment.id} (upgrade ${s.deployment.upgrade_id})  ${s.deployment.state}${s.deployment.running ? ' [running]' : ''}  ${s.deployment.step}`
      : 'deploy    (no deployment)',
  );
  if (s.deployment?.driver) lines.push(`driver    pid ${s.deployment.driver.pid} on ${s.deployment.driver.host} (lease until ${s.deployment.driver.expires_at})`);
  lines.push(s.shadow ? `shadow    ${s.shadow.count} diff(s) at ${s.shadow.recorded_at}  ${s.shadow.path}` : 'shadow    (no upgrade run yet)');
  if (s.soak) lines.push(`soak      ${s.soak.line}`);
  lines.push(`lock      ${s.upgrade_lock.state}${s.upgrade_lock.id ? ` (upgrade ${s.upgrade_lock.id})` : ''}`);
  for (const w of s.warnings) lines.push(`warning   ${w.source}: ${w.code}: ${w.message}`);
  return lines.join('\n');
}
