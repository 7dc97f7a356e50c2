import { RuntimeError } from '../errors.js';
import { LABELS } from './container-spec.js';
import { pingHost, type DockerHost } from './engine.js';
import { copyStateToVolume, inspectStateVolume, type PrepareStateOptions, type PreparedState } from './remote-state.js';

/**
 * The live state of one deployment on a host whose state mode is `volume` (a remote host, every
 * swarm node). Blue and green serve ONE live database (DESIGN §5), so the live lanes of a project
 * share one volume on their host, `<project>-live-state`: the first live lane copies the state root
 * into it and verifies it there (remote-state.ts), every later one mounts it as it is, and a
 * promoted green sees every write blue took. Shadow, sandbox and probe lanes keep private copies.
 */

/** The volume label that marks a project's live state (value `live`, the role that mounts it). */
const LIVE_ROLE = 'live';

export function liveStateVolumeName(project: string): string {
  return `${project}-live-state`;
}

export interface LiveState {
  volume: string;
  /** True when this call made (copied and verified) the volume; false when it was already there. */
  created: boolean;
  prepared?: PreparedState;
}

/** One create at a time per volume in this process: two live lanes starting at once must not both copy. */
const creating = new Map<string, Promise<LiveState>>();

/**
 * The project's live state volume on `host`: reused when it exists for the same state root, made
 * (copied + verified) when it does not. A volume by that name that belongs to another state root
 * is refused (WVO_STATE_REMOTE_EXISTS): mounting it would serve someone else's database.
 */
export function ensureLiveState(host: DockerHost, options: PrepareStateOptions): Promise<LiveState> {
  const volume = liveStateVolumeName(options.project);
  const key = `${host.endpoint.url}\u0000${volume}`;
  const previous = creating.get(key) ?? Promise.resolve(undefined);
  const run = previous.catch(() => undefined).then(() => findOrCreate(host, options, volume));
  creating.set(key, run);
  void run.finally(() => {
    if (creating.get(key) === run) creating.delete(key);
  }).catch(() => undefined);
  return run;
}

async function findOrCreate(host: DockerHost, options: PrepareStateOptions, volume: string): Promise<LiveState> {
  const existing = await inspectStateVolume(host, volume);
  if (!existing) {
    const prepared = await copyStateToVolume(host, options, volume, { [LABELS.role]: LIVE_ROLE });
    return { volume, created: true, prepared };
  }
  const labels = existing.Labels ?? {};
  if (labels[LABELS.role] !== LIVE_ROLE || labels[LABELS.project] !== options.project || labels[LABELS.state] !== options.sourceDir) {
    throw new RuntimeError('WVO_STATE_REMOTE_EXISTS', `volume ${volume} on host "${host.name}" is not the live state of ${options.sourceDir} (it holds ${labels[LABELS.state] ?? 'unlabelled data'}${labels[LABELS.project] && labels[LABELS.project] !== options.project ? ` of project ${labels[LABELS.project]}` : ''})`, {
      subject: volume,
      hint: `One project has one live state per host. Use that project's state root, or compare the volume (wvo parity host:${host.name}:${volume}/FILE …) and remove it there (docker volume rm ${volume}).`,
      details: { host: host.name, volume, source: labels[LABELS.state] ?? null },
    });
  }
  return { volume, created: false };
}

/** Which of `hosts` hold the project's live state volume (hosts that do not answer are passed to `skipped`, not counted). */
export async function liveStateHolders(hosts: readonly DockerHost[], project: string, skipped: (host: DockerHost, error: unknown) => void = () => undefined): Promise<string[]> {
  const volume = liveStateVolumeName(project);
  const found = await Promise.all(
    hosts.map((host) =>
      // Pinged first, with its timeout: a host that does not answer must not stall a start.
      pingHost(host).then(() => inspectStateVolume(host, volume)).then(
        (info) => (info?.Labels?.[LABELS.role] === LIVE_ROLE ? host.name : undefined),
        (error: unknown) => {
          skipped(host, error);
          return undefined;
        },
      ),
    ),
  );
  return found.filter((name): name is string => name !== undefined);
}
