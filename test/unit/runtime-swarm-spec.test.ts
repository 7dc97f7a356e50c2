import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../controller/src/config/index.js';
import { createRuntime } from '../../controller/src/runtime/select.js';
import { SwarmRuntime } from '../../controller/src/runtime/swarm/swarm-runtime.js';
import { currentTask, laneInfoFromService, publishedPort, serviceCreateSpec, statusFromTask, type TaskView } from '../../controller/src/runtime/swarm/service-spec.js';

const ctx = {
  project: 'wvo',
  node: 'site-b',
  labelKey: 'wvo.node',
  stateDir: '/srv/state/blue',
  stateVolume: 'wvo-state-blue',
  user: '1000:1000',
  resources: { memoryMb: 256, cpus: 0.5, pidsLimit: 128 },
  stopTimeoutSeconds: 7,
};

describe('swarm service spec', () => {
  const spec = serviceCreateSpec({ name: 'blue', image: 'wvo-worker:1', stateDir: '/srv/state/blue', role: 'shadow-replica', dryRun: true, deploymentId: 'd1' }, ctx) as {
    Name: string;
    Labels: Record<string, string>;
    TaskTemplate: { ContainerSpec: { Env: string[]; Healthcheck: Record<string, number>; Mounts: Array<{ Type: string; Source?: string; Target: string }>; User: string; StopGracePeriod: number; Labels: Record<string, string> }; Placement: { Constraints: string[] }; RestartPolicy: { Condition: string }; Resources: { Limits: Record<string, number> } };
    EndpointSpec: { Mode: string; Ports: Array<Record<string, unknown>> };
    Mode: unknown;
  };

  it('one replica on the labelled node, state volume mounted, never restarted by the swarm', () => {
    expect(spec.Name).toBe('wvo-lane-blue');
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(spec.TaskTemplate.Placement.Constraints).toEqual(['node.labels.wvo.node == site-b']);
    expect(spec.TaskTemplate.ContainerSpec.Mounts[0]).toEqual({ Type: 'volume', Source: 'wvo-state-blue', Target: '/state' });
    expect(spec.TaskTemplate.RestartPolicy.Condition).toBe('none');
    expect(spec.TaskTemplate.ContainerSpec.User).toBe('1000:1000');
    expect(spec.TaskTemplate.ContainerSpec.StopGracePeriod).toBe(7e9);
    expect(spec.TaskTemplate.Resources.Limits).toEqual({ MemoryBytes: 256 * 1024 * 1024, NanoCPUs: 5e8, Pids: 128 });
    expect(spec.TaskTemplate.ContainerSpec.Env).toEqual(expect.arrayContaining(['WVO_DRY_RUN=1', 'WVO_PORT=8080', 'WVO_STATE_ROOT=/state']));
  });

  it('probes health every second for readiness, but Swarm shuts a lane down only after ~30 s of failing or hung probes', () => {
    // Swarm stops an unhealthy task (a plain container is only marked): the image's 3 × 3 s killed live lanes under load.
    expect(spec.TaskTemplate.ContainerSpec.Healthcheck).toEqual({ Interval: 1e9, Timeout: 10e9, Retries: 30 });
  });

  it('publishes 8080 in host mode on an engine-chosen port, no VIP (no routing mesh)', () => {
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }] });
  });

  it('labels the service and its containers like docker lanes, plus the node', () => {
    for (const labels of [spec.Labels, spec.TaskTemplate.ContainerSpec.Labels]) {
      expect(labels).toMatchObject({ 'wvo.managed': '1', 'wvo.project': 'wvo', 'wvo.lane': 'blue', 'wvo.role': 'shadow-replica', 'wvo.dry-run': '1', 'wvo.mode': 'dry_run', 'wvo.deployment': 'd1', 'wvo.state': '/srv/state/blue', 'wvo.state-volume': 'wvo-state-blue', 'wvo.node': 'site-b' });
    }
  });
});

describe('swarm lane rows', () => {
  const task = (state: string, at: string, port?: number): TaskView => ({ ID: at, NodeID: 'n1', CreatedAt: at, Status: { State: state, ...(port ? { PortStatus: { Ports: [{ TargetPort: 8080, PublishedPort: port, PublishMode: 'host' }] } } : {}) } });

  it('status from replicas and the newest task', () => {
    expect(statusFromTask(0, task('running', '1'))).toBe('stopped');
    expect(statusFromTask(1, task('running', '1'))).toBe('ready');
    expect(statusFromTask(1, task('starting', '1'))).toBe('starting');
    expect(statusFromTask(1, undefined)).toBe('starting');
    expect(statusFromTask(1, task('failed', '1'))).toBe('exited');
    expect(statusFromTask(1, task('shutdown', '1'))).toBe('stopped');
    expect(currentTask([task('failed', '2026-01-01'), task('running', '2026-01-02')])?.Status?.State).toBe('running');
    expect(publishedPort(task('running', '1', 30001))).toBe(30001);
  });

  it('a running lane is reached at its node address and published port', () => {
    const service = { ID: 's1', CreatedAt: '2026-01-01T00:00:00Z', Spec: { Name: 'wvo-lane-blue', Labels: { 'wvo.lane': 'blue', 'wvo.node': 'site-b', 'wvo.role': 'live', 'wvo.dry-run': '0', 'wvo.state': '/s', 'wvo.image': 'w:1' }, Mode: { Replicated: { Replicas: 1 } } } };
    expect(laneInfoFromService(service, task('running', '1', 30001), '10.214.1.2')).toMatchObject({ name: 'blue', runtime: 'swarm', host: 'site-b', mode: 'live', status: 'ready', url: 'http://10.214.1.2:30001', port: 30001, image: 'w:1', stateDir: '/s' });
    expect(laneInfoFromService(service, task('starting', '1', 30001), '10.214.1.2').url).toBeUndefined();
  });
});

describe('swarm config', () => {
  const hosts = [{ name: 'b', docker: 'tcp://10.214.1.2:2375' }];
  it('runtime "swarm" needs nodes; node hosts, manager and defaultNode must exist (JSON paths)', () => {
    expect(() => parseConfig({ runtime: 'swarm' })).toThrow(expect.objectContaining({ code: 'WVO_CONFIG_INVALID', subject: 'swarm.nodes' }));
    expect(() => parseConfig({ runtime: 'swarm', hosts, swarm: { manager: 'b', nodes: [{ label: 'x', host: 'c' }] } })).toThrow(expect.objectContaining({ subject: 'swarm.nodes[0].host' }));
    expect(() => parseConfig({ runtime: 'swarm', hosts, swarm: { manager: 'm', nodes: [{ label: 'x', host: 'b' }] } })).toThrow(expect.objectContaining({ subject: 'swarm.manager' }));
    expect(() => parseConfig({ runtime: 'swarm', hosts, swarm: { manager: 'b', nodes: [{ label: 'x', host: 'b' }, { label: 'x', host: 'local' }] } })).toThrow(expect.objectContaining({ subject: 'swarm.nodes[1].label' }));
    expect(() => parseConfig({ runtime: 'swarm', hosts, swarm: { manager: 'b', nodes: [{ label: 'x', host: 'b' }], defaultNode: 'y' } })).toThrow(expect.objectContaining({ subject: 'swarm.defaultNode' }));
    expect(parseConfig({ runtime: 'swarm', hosts, swarm: { manager: 'b', nodes: [{ label: 'x', host: 'b' }] } }).swarm).toEqual({ manager: 'b', labelKey: 'wvo.node', nodes: [{ label: 'x', host: 'b' }] });
  });

  it('createRuntime picks the swarm runtime and says why; its images come from the docker store', async () => {
    const selected = await createRuntime(parseConfig({ runtime: 'swarm', hosts, swarm: { manager: 'b', nodes: [{ label: 'x', host: 'b' }] } }));
    expect(selected.runtime).toBeInstanceOf(SwarmRuntime);
    expect(selected).toMatchObject({ kind: 'swarm', reason: 'runtime "swarm" in config (manager "b")' });
    expect(selected.images.kind).toBe('docker');
    expect(() => (selected.runtime as SwarmRuntime).node('nope')).toThrow(expect.objectContaining({ code: 'WVO_SWARM_NODE_UNKNOWN', subject: 'nope', exitCode: 2 }));
    await selected.runtime.close();
  });
});
