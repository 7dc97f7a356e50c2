import type { Command } from 'commander';

/**
 * Every `wvo` subcommand registers itself here: one module per command (or command group),
 * each exporting `register(program)`. Add one line per new command.
 */
const registrations: Array<() => Promise<{ register: (program: Command) => void }>> = [
  () => import('./parity.js'),
  () => import('./unlock.js'),
  () => import('./proxy.js'),
  () => import('./upgrade.js'),
  () => import('./serve.js'),
  () => import('./status.js'),
  () => import('./lanes.js'),
  () => import('./hosts.js'),
  () => import('./images.js'),
  () => import('./promote.js'),
  () => import('./rollback.js'),
  () => import('./resume.js'),
  () => import('./soak.js'),
];

export async function registerAll(program: Command): Promise<void> {
  for (const load of registrations) (await load()).register(program);
}
