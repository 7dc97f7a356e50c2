import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from 'dockerode';
import {
  LABELS,
  choosePort,
  containerCreateOptions,
  laneFilters,
  laneInfoFromContainer,
  type ContainerSpecContext,
} from '../../controller/src/runtime/docker/container-spec.js';
import { listedLaneMode } from '../../controller/src/runtime/lane-runtime.js';
import { validateLaneSpec } from '../../controller/src/runtime/lane-spec.js';
import { planContainerUser } from '../../controller/src/runtime/state-dir.js';

const ctx: ContainerSpecContext = {
  project: 'proj',
  hostName: 'local',
  networkMode: 'bridge',
  network: 'proj-net',
  publishIp: '127.0.0.1',
  stateDir: '/srv/state/blue',
  user: '1000:1000',
  resources: { memoryMb: 256, cpus: 0.5, pidsLimit: 128 },
  stopTimeoutSeconds: 10,
};

describe('containerCreateOptions', () => {
  const spec = validateLaneSpec({ name: 'blue', image: 'wvo-worker:1', stateDir: '/srv/state/blue', deploymentId: 'd1', env: { WVO_PORT: '1', EXTRA: 'x' } });
  const options = containerCreateOptions(spec, ctx);

  it('labels the lane so the table can be rebuilt', () => {
    expect(options.Labels).toMatchObject({
      [LABELS.managed]: '1',
      [LABELS.project]: 'proj',
      [LABELS.lane]: 'blue',
      [LABELS.deployment]: 'd1',
      [LABELS.role]: 'live',
      [LABELS.dryRun]: '0',
      [LABELS.mode]: 'live',
      [LABELS.state]: '/srv/state/blue',
      [LABELS.host]: 'local',
    });
    expect(options.name).toBe('proj-lane-blue');
  });

  it('sets the worker contract env, which beats spec.env', () => {
    expect(options.Env).toEqual(expect.arrayContaining(['EXTRA=x', 'WVO_DRY_RUN=0', 'WVO_STATE_ROOT=/state', 'WVO_HOST=0.0.0.0', 'WVO_PORT=8080']));
    expect(options.Env).not.toContain('WVO_PORT=1');
  });

  it('mounts state, publishes on loopback (ephemeral), hardens the container', () => {
    const host = options.HostConfig!;
    expect(host.Binds).toEqual(['/srv/state/blue:/state:rw']);
    expect(host.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    expect(host.NetworkMode).toBe('proj-net');
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Tmpfs).toHaveProperty('/tmp');
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.NanoCpus).toBe(5e8);
    expect(host.PidsLimit).toBe(128);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(options.User).toBe('1000:1000');
  });

  it('host network mode: no published ports, the chosen port in env and a label', () => {
    const hostMode = containerCreateOptions(spec, { ...ctx, networkMode: 'host', port: 23456 });
    expect(hostMode.HostConfig!.NetworkMode).toBe('host');
    expect(hostMode.HostConfig!.PortBindings).toBeUndefined();
    expect(hostMode.Env).toContain('WVO_PORT=23456');
    expect(hostMode.Labels![LABELS.port]).toBe('23456');
  });

  it('a shadow lane is dry-run by default and refuses dryRun=false', () => {
    const shadow = containerCreateOptions(validateLaneSpec({ name: 's', image: 'i', stateDir: '/s', role: 'shadow-candidate' }), ctx);
    expect(shadow.Env).toContain('WVO_DRY_RUN=1');
    expect(shadow.Labels![LABELS.role]).toBe('shadow-candidate');
    expect(() => validateLaneSpec({ name: 's', image: 'i', stateDir: '/s', role: 'shadow-baseline', dryRun: false })).toThrow(
      expect.objectContaining({ code: 'WVO_LANE_SPEC_INVALID' }),
    );
  });

  it('mode sandbox sets WVO_SANDBOX=1 (not dry-run) for a shadow lane; dryRun keeps meaning what it did', () => {
    const env = (spec: Parameters<typeof validateLaneSpec>[0]) => containerCreateOptions(validateLaneSpec(spec), ctx).Env;
    const shadow = { name: 's', image: 'i', stateDir: '/s', role: 'shadow-baseline' } as const;
    expect(validateLaneSpec({ ...shadow, mode: 'sandbox' })).toMatchObject({ mode: 'sandbox', dryRun: false });
    expect(env({ ...shadow, mode: 'sandbox' })).toEqual(expect.arrayContaining(['WVO_SANDBOX=1', 'WVO_DRY_RUN=0']));
    expect(env({ ...shadow, mode: 'dry_run' })).toEqual(expect.arrayContaining(['WVO_SANDBOX=0', 'WVO_DRY_RUN=1']));
    expect(env(shadow)).toEqual(expect.arrayContaining(['WVO_SANDBOX=0', 'WVO_DRY_RUN=1']));
    expect(env({ ...shadow, dryRun: true })).toEqual(expect.arrayContaining(['WVO_SANDBOX=0', 'WVO_DRY_RUN=1']));
    expect(validateLaneSpec({ name: 'blue', image: 'i', stateDir: '/s' })).toMatchObject({ mode: 'live', dryRun: false });
    expect(validateLaneSpec({ name: 'blue', image: 'i', stateDir: '/s', dryRun: true })).toMatchObject({ mode: 'dry_run', dryRun: true });
    const refused = (spec: Parameters<typeof validateLaneSpec>[0], subject: string) =>
      expect(() => validateLaneSpec(spec)).toThrow(expect.objectContaining({ code: 'WVO_LANE_SPEC_INVALID', subject }));
    refused({ ...shadow, mode: 'live' }, 'mode');
    refused({ ...shadow, mode: 'sandbox', dryRun: true }, 'mode');
    refused({ ...shadow, mode: 'dry_run', dryRun: false }, 'mode');
    refused({ ...shadow, mode: 'chaos' as never }, 'mode');
    refused({ name: 'blue', image: 'i', stateDir: '/s', role: 'live', mode: 'sandbox' }, 'mode');
  });

  it('rejects names that cannot be container names', () => {
    for (const name of ['Blue', '-x', 'a b', 'a'.repeat(64), '']) {
      expect(() => validateLaneSpec({ name, image: 'i', stateDir: '/s' })).toThrow(expect.objectContaining({ code: 'WVO_LANE_NAME_INVALID' }));
    }
  });
});

describe('lane addressing on the network', () => {
  const spec = validateLaneSpec({ name: 'green', image: 'wvo-worker:1', stateDir: '/srv/state/blue' });

  it('publishes nothing with network addressing, still joins the project network', () => {
    const options = containerCreateOptions(spec, { ...ctx, address: 'network' });
    expect(options.HostConfig?.PortBindings).toBeUndefined();
    expect(options.HostConfig?.NetworkMode).toBe('proj-net');
    expect(options.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(options.Env).toContain('WVO_PORT=8080');
  });

  it('publishes on loopback by default (published addressing)', () => {
    expect(containerCreateOptions(spec, ctx).HostConfig?.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    expect(containerCreateOptions(spec, { ...ctx, address: 'published' }).HostConfig?.PortBindings).toBeDefined();
  });
});

describe('laneInfoFromContainer', () => {
  const base = {
    Id: 'abc',
    Names: ['/proj-lane-blue'],
    Image: 'wvo-worker:1',
    ImageID: 'sha256:1',
    Created: 1_700_000_000,
    State: 'running',
    Status: 'Up 3 seconds (healthy)',
    Ports: [{ IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 32768, Type: 'tcp' }],
    Labels: containerCreateOptions(validateLaneSpec({ name: 'blue', image: 'wvo-worker:1', stateDir: '/s', dryRun: true, deploymentId: 'd9' }), ctx).Labels,
  } as unknown as ContainerInfo;

  it('rebuilds the lane from labels and the published port', () => {
    expect(laneInfoFromContainer(base, '127.0.0.1')).toMatchObject({
      name: 'blue',
      runtime: 'docker',
      host: 'local',
      image: 'wvo-worker:1',
      stateDir: '/srv/state/blue',
      dryRun: true,
      mode: 'dry_run',
      role: 'live',
      deploymentId: 'd9',
      status: 'ready',
      url: 'http://127.0.0.1:32768',
    });
  });

  it('lists the mode from the wvo.mode label (sandbox too); lanes labelled before it by their dry-run label', () => {
    const sandboxLabels = containerCreateOptions(
      validateLaneSpec({ name: 'cand', image: 'wvo-worker:2', stateDir: '/s', role: 'shadow-candidate', mode: 'sandbox' }),
      ctx,
    ).Labels!;
    expect(sandboxLabels).toMatchObject({ [LABELS.mode]: 'sandbox', [LABELS.dryRun]: '0' });
    expect(laneInfoFromContainer({ ...base, Labels: sandboxLabels }, 'h')).toMatchObject({ mode: 'sandbox', dryRun: false, role: 'shadow-candidate' });
    const { [LABELS.mode]: _mode, ...older } = base.Labels as Record<string, string>;
    expect(laneInfoFromContainer({ ...base, Labels: older }, 'h')).toMatchObject({ mode: 'dry_run', dryRun: true });
    expect(laneInfoFromContainer({ ...base, Labels: { ...older, [LABELS.dryRun]: '0' } }, 'h').mode).toBe('live');
    expect(listedLaneMode('chaos', false)).toBe('live');
  });

  it('maps engine states to lane statuses; stopped lanes have no url', () => {
    expect(laneInfoFromContainer({ ...base, Status: 'Up 1 second (health: starting)' }, 'h').status).toBe('starting');
    expect(laneInfoFromContainer({ ...base, Status: 'Up 1 minute (unhealthy)' }, 'h').status).toBe('unhealthy');
    const exited = laneInfoFromContainer({ ...base, State: 'exited', Status: 'Exited (0)', Ports: [] }, 'h');
    expect(exited.status).toBe('stopped');
    expect(exited.url).toBeUndefined();
  });

  it('host-network lanes are reached at the host address and the port label', () => {
    const labels = { ...base.Labels, [LABELS.port]: '24000' };
    expect(laneInfoFromContainer({ ...base, Labels: labels, Ports: [] }, '10.213.0.2').url).toBe('http://10.213.0.2:24000');
  });

  it('network addressing: bridge lanes by container name on port 8080, host-network lanes unchanged', () => {
    expect(laneInfoFromContainer({ ...base, Ports: [] }, '127.0.0.1', 'network')).toMatchObject({ url: 'http://proj-lane-blue:8080', port: 8080 });
    // A compose-created lane (1.29 naming) is addressed by its own container name too.
    expect(laneInfoFromContainer({ ...base, Names: ['/wvo_worker-blue_1'], Ports: [] }, '127.0.0.1', 'network').url).toBe('http://wvo_worker-blue_1:8080');
    expect(laneInfoFromContainer(base, '127.0.0.1', 'published').url).toBe('http://127.0.0.1:32768');
    const hostLabels = { ...base.Labels, [LABELS.port]: '24000' };
    expect(laneInfoFromContainer({ ...base, Labels: hostLabels, Ports: [] }, '10.213.0.2', 'network').url).toBe('http://10.213.0.2:24000');
    const stopped = laneInfoFromContainer({ ...base, State: 'exited', Status: 'Exited (0)', Ports: [] }, 'h', 'network');
    expect(stopped.url).toBeUndefined();
  });

  it('filters select one project (and one lane)', () => {
    expect(laneFilters('p', 'x').label).toEqual(['wvo.managed=1', 'wvo.project=p', 'wvo.lane=x']);
  });
});

describe('choosePort', () => {
  it('skips ports in use and wraps around the range', () => {
    expect(choosePort([100, 102], new Set([101]), 1)).toBe(102);
    expect(choosePort([100, 102], new Set([102]), 2)).toBe(100);
    expect(choosePort([100, 101], new Set([100, 101]), 0)).toBeUndefined();
  });
});

describe('planContainerUser', () => {
  const image = { uid: 1000, gid: 1000 };
  it('runs as the owner of a non-root dir', () => {
    expect(planContainerUser({ uid: 1234, gid: 99, mode: 0o40755 }, image, true)).toEqual({ user: '1234:99', adopt: false });
  });
  it('refuses a dir its owner cannot write', () => {
    expect(planContainerUser({ uid: 1234, gid: 99, mode: 0o40555 }, image, true)).toHaveProperty('reason');
  });
  it('adopts a root-owned dir when we are root, refuses otherwise', () => {
    expect(planContainerUser({ uid: 0, gid: 0, mode: 0o40755 }, image, true)).toEqual({ user: '1000:1000', adopt: true });
    expect(planContainerUser({ uid: 0, gid: 0, mode: 0o40755 }, image, false)).toHaveProperty('reason');
    expect(planContainerUser({ uid: 0, gid: 0, mode: 0o41777 }, image, false)).toEqual({ user: '1000:1000', adopt: false });
  });
});

describe('local lanes list their mode (process-table record)', () => {
  it('reads mode from the record; records written before it fall back to dryRun', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { ProcessTable } = await import('../../controller/src/runtime/local/process-table.js');
    const { LocalRuntime } = await import('../../controller/src/runtime/local/local-runtime.js');
    const runDir = mkdtempSync(join(tmpdir(), 'wvo-local-mode-'));
    try {
      const table = new ProcessTable(runDir);
      // A pid no process has: the lanes list as exited, which is all this needs.
      const record = { pid: 2_147_483_000, port: 0, url: '', image: 'i', tree: '/t', main: '/t/m.js', stateDir: '/s', role: 'shadow-candidate' as const, startedAt: '2026-01-01T00:00:00.000Z' };
      await table.write({ ...record, name: 'cand', dryRun: false, mode: 'sandbox' });
      await table.write({ ...record, name: 'old', dryRun: true });
      const lanes = await new LocalRuntime({ runDir }).listLanes();
      expect(lanes.map((lane) => [lane.name, lane.mode, lane.dryRun])).toEqual([
        ['cand', 'sandbox', false],
        ['old', 'dry_run', true],
      ]);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
