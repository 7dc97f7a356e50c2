import { DockerRuntime } from '../runtime/index.js';

/**
 * The demo's Docker leftovers: its lanes (containers attached to the project network), the images
 * it tagged, then the network itself, which the runtime removes reliably or names in a warning.
 */
export async function removeDemoDocker(runtime: DockerRuntime, images: readonly string[]): Promise<boolean> {
  for (const lane of await runtime.listLanes().catch(() => [])) await runtime.removeLane(lane.name).catch(() => undefined);
  const { docker } = runtime.host();
  for (const image of images) await docker.getImage(image).remove().catch(() => undefined);
  return runtime.removeNetwork();
}
