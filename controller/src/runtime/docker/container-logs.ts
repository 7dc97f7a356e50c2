import { isNotFound, isTransportError, unreachable, type DockerHost } from './engine.js';
import { demuxDockerLogs } from './log-stream.js';

/**
 * The last `tail` log lines of a container on `host` (stdout and stderr, demultiplexed), for the
 * docker and swarm runtimes alike. A container that is gone has no logs (''); an engine that does
 * not answer is WVO_HOST_UNREACHABLE naming the host.
 */
export async function readContainerLogs(host: DockerHost, id: string, tail = 100): Promise<string> {
  try {
    const buffer = (await host.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail })) as unknown as Buffer;
    return demuxDockerLogs(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer))).combined;
  } catch (error) {
    if (isNotFound(error)) return '';
    throw isTransportError(error) ? unreachable(host, error) : error;
  }
}
