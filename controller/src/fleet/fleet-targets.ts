import { isAbsolute, resolve } from 'node:path';
import type { WvoConfig } from '../config/index.js';
import { fleetErrors } from './errors.js';

/** One orchestrator of the fleet, resolved from config (pure data). */
export interface FleetTarget {
  name: string;
  /** `host` (docker runtime) or `node` (swarm runtime); neither: the config's default host. */
  placement: { kind: 'host'; host: string } | { kind: 'node'; node: string } | { kind: 'local' };
  /** The lanes' project name. */
  app: string;
  /** Absolute state root: live state and this deployment's controller.db. */
  state: string;
  proxy: { admin: string; tokenFile?: string };
}

type Deployment = NonNullable<WvoConfig['fleet']>['deployments'][number];

/**
 * Config `fleet.deployments` → targets, refusing (with the JSON path of the field) what cannot
 * be promoted safely: no deployments, a host or node not configured, a deployment naming both,
 * two deployments with one name, app or state root (their promotions would share a database).
 * Pure: no engine or file is touched.
 */
export function resolveFleetTargets(config: WvoConfig, baseDir: string): FleetTarget[] {
  const deployments = config.fleet?.deployments ?? [];
  if (deployments.length === 0) {
    throw fleetErrors.create('WVO_FLEET_EMPTY', 'wvo.config.json lists no fleet deployments', {
      subject: 'fleet.deployments',
      hint: 'add "fleet": {"deployments": [{"name": "a", "host": "local", "state": "./fleet/a", "proxy": {"admin": "http://127.0.0.1:8081"}}]}',
    });
  }
  const hosts = new Set(['local', ...config.hosts.map((h) => h.name)]);
  const nodes = new Set((config.swarm?.nodes ?? []).map((n) => n.label));
  const seen = { name: new Map<string, number>(), app: new Map<string, number>(), state: new Map<string, number>() };
  return deployments.map((d: Deployment, index) => {
    const at = (field: string) => `fleet.deployments[${index}].${field}`;
    const placement = placementOf(d, at, hosts, nodes, config);
    const target: FleetTarget = {
      name: d.name,
      placement,
      app: d.app ?? `${config.projectName}-${d.name}`,
      state: isAbsolute(d.state) ? d.state : resolve(baseDir, d.state),
      proxy: { admin: d.proxy.admin, ...(d.proxy.tokenFile ? { tokenFile: d.proxy.tokenFile } : {}) },
    };
    for (const key of ['name', 'app', 'state'] as const) {
      const value = target[key];
      const other = seen[key].get(value);
      if (other !== undefined) {
        const code = key === 'state' ? 'WVO_FLEET_STATE_SHARED' : 'WVO_FLEET_DEPLOYMENT_DUPLICATE';
        throw fleetErrors.create(code, `fleet deployments ${deployments[other]!.name} and ${d.name} both claim ${key} ${value}`, {
          subject: at(key),
          hint: key === 'state' ? 'each orchestrator needs its own state root (its live database and controller.db)' : `give fleet.deployments[${index}] its own ${key}`,
          details: { first: `fleet.deployments[${other}].${key}`, second: at(key) },
        });
      }
      seen[key].set(value, index);
    }
    return target;
  });
}

function placementOf(d: Deployment, at: (field: string) => string, hosts: Set<string>, nodes: Set<string>, config: WvoConfig): FleetTarget['placement'] {
  if (d.host !== undefined && d.node !== undefined) {
    throw fleetErrors.create('WVO_FLEET_HOST_UNKNOWN', `fleet deployment ${d.name} names both a host (${d.host}) and a swarm node (${d.node})`, {
      subject: at('node'),
      hint: 'a deployment runs on one Docker host (host) or one swarm node (node)',
    });
  }
  if (d.node !== undefined) {
    if (!nodes.has(d.node)) {
      throw fleetErrors.create('WVO_FLEET_HOST_UNKNOWN', `fleet deployment ${d.name}: no swarm node labelled "${d.node}" in swarm.nodes`, {
        subject: at('node'),
        hint: `known node labels: ${[...nodes].join(', ') || '(none: add a swarm section)'}`,
      });
    }
    return { kind: 'node', node: d.node };
  }
  if (config.runtime === 'local') {
    if (d.host !== undefined && d.host !== 'local') {
      throw fleetErrors.create('WVO_FLEET_HOST_UNKNOWN', `fleet deployment ${d.name}: runtime "local" runs lanes on this machine only, not on host "${d.host}"`, {
        subject: at('host'),
        hint: 'use runtime docker (or swarm) for deployments on other hosts',
      });
    }
    return { kind: 'local' };
  }
  const host = d.host ?? config.defaultHost;
  if (!hosts.has(host)) {
    throw fleetErrors.create('WVO_FLEET_HOST_UNKNOWN', `fleet deployment ${d.name}: no host named "${host}" in hosts`, {
      subject: at('host'),
      hint: `known hosts: ${[...hosts].join(', ')}`,
    });
  }
  return { kind: 'host', host };
}
