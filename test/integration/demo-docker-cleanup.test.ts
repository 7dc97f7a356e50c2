import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeDemoDocker } from '../../controller/src/demo/docker-cleanup.js';
import { DockerRuntime, ensureBaseImage } from '../../controller/src/runtime/index.js';
import { networkCreateOptions } from '../../controller/src/runtime/docker/container-spec.js';
import { describeDocker } from '../helpers/docker.js';
import { cleanupProject, testId } from '../helpers/runtime-fixtures.js';

/** The demo's cleanup on the real engine: its project network goes even with a container still attached. */
const docker = new Docker();
const project = testId('demo-net');
const label = { 'wvo.test': project };

async function networkExists(name: string): Promise<boolean> {
  return (await docker.listNetworks({ filters: { name: [name] } })).some((n) => n.Name === name);
}

describeDocker('demo cleanup: the project network', () => {
  let runtime: DockerRuntime;
  let image: string;

  beforeAll(async () => {
    image = (await ensureBaseImage(docker, 'wvo-node-base')).tag;
    runtime = new DockerRuntime({ project });
  });

  afterAll(async () => {
    for (const c of await docker.listContainers({ all: true, filters: { label: [`wvo.test=${project}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await cleanupProject(docker, project);
    await runtime?.close();
  });

  it('is removed although a running container is still attached to it (it is disconnected first)', async () => {
    await docker.createNetwork(networkCreateOptions(project, runtime.network));
    const container = await docker.createContainer({
      Image: image,
      Cmd: ['/usr/bin/node', '-e', 'setInterval(() => {}, 1000)'],
      Labels: label,
      HostConfig: { NetworkMode: runtime.network, AutoRemove: false },
    });
    await container.start();
    expect(await networkExists(runtime.network)).toBe(true);

    await removeDemoDocker(runtime, []);
    expect(await networkExists(runtime.network)).toBe(false);
    expect((await container.inspect()).State.Running).toBe(true); // not ours to stop: only disconnected
  });

  it('an absent network is not an error', async () => {
    await expect(removeDemoDocker(runtime, [])).resolves.toBe(true);
  });
});
