import { closeSync, openSync, promises as fs } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { execa } from 'execa';
import { systemClock, type Clock } from '../../../../common/src/clock.js';
import { silentLogger, type Logger } from '../../../../common/src/logger.js';
import { RuntimeError, laneNotFound, logExcerpt } from '../errors.js';
import type {
  EnsureImageResult,
  HealthOptions,
  LaneHealth,
  LaneInfo,
  LaneRuntime,
  LaneSpec,
  LogOptions,
  StartOptions,
  StopOptions,
  TransferResult,
} from '../lane-runtime.js';
import { validateLaneSpec } from '../lane-spec.js';
import { appCommand, appEnv, WORKER_APP, type LaneApp } from '../lane-app.js';
import { freePort } from './free-port.js';
import { listedLaneMode } from '../lane-runtime.js';
import { probeReady, waitReady } from '../readiness.js';
import { checkStateDir } from '../state-dir.js';
import { LANE_KEY_ENV, ProcessTable, findKeyed, findListening, isAlive, type LocalLaneRecord } from './process-table.js';

export const LOCAL_HOST_NAME = 'local';
const WORKER_MAIN = join('dist', 'worker', 'src', 'main.js');

export interface LocalRuntimeOptions {
  /** Where lane records and logs live (e.g. `<stateRoot>/runtime/local`). */
  runDir: string;
  /** Image tag → built tree. An image that is a path is a tree itself. */
  trees?: Record<string, string>;
  /** Tree used for any tag not in `trees` (default: none → WVO_IMAGE_NOT_FOUND). */
  defaultTree?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/** Lanes as detached `node <tree>/dist/worker/src/main.js serve` processes on ephemeral ports. */
export class LocalRuntime implements LaneRuntime {
  readonly kind = 'local' as const;
  private readonly table: ProcessTable;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.table = new ProcessTable(resolve(options.runDir));
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
  }

  private treeFor(image: string): string | undefined {
    if (isAbsolute(image) || image.startsWith('.')) return resolve(image);
    const mapped = this.options.trees?.[image];
    return mapped ? resolve(mapped) : this.options.defaultTree ? resolve(this.options.defaultTree) : undefined;
  }

  private checkHost(host: string | undefined): void {
    if (host !== undefined && host !== LOCAL_HOST_NAME) {
      throw new RuntimeError('WVO_HOST_UNKNOWN', `the local runtime has only the host "${LOCAL_HOST_NAME}", not "${host}"`, {
        subject: host,
        hint: 'Remote hosts need the docker runtime (runtime: "docker" in wvo.config.json).',
        exitCode: 2,
      });
    }
  }

  /** A command app's "image" is what `{image}` becomes in its argv: its script must exist. */
  private async ensureCommand(image: string, app: LaneApp): Promise<EnsureImageResult> {
    const argv = appCommand(app, image)!;
    const cwd = resolve(app.cwd ?? '.');
    const script = commandScript(argv);
    try {
      await fs.access(resolve(cwd, script));
    } catch {
      throw new RuntimeError('WVO_IMAGE_NOT_FOUND', `app ${app.name}: image ${image} has no ${script} (command ${argv.join(' ')})`, {
        subject: image,
        hint: `Install or build that version, or name another image (app ${app.name}, field command).`,
      });
    }
    return { image, imageId: resolve(cwd, script), host: LOCAL_HOST_NAME, transferred: false };
  }

  async ensureImage(image: string, options: { host?: string; app?: LaneApp } = {}): Promise<EnsureImageResult> {
    this.checkHost(options.host);
    if (options.app?.command) return this.ensureCommand(image, options.app);
    const tree = this.treeFor(image);
    const main = tree ? join(tree, WORKER_MAIN) : undefined;
    try {
      if (!main) throw new Error('no tree');
      await fs.access(main);
    } catch {
      throw new RuntimeError('WVO_IMAGE_NOT_FOUND', tree ? `${image}: no built worker at ${main}` : `image ${image} maps to no built tree`, {
        subject: image,
        hint: tree ? `Build the tree (npm run build in ${tree}).` : 'Pass a tree path as the image, or map the tag in local.trees of wvo.config.json.',
      });
    }
    return { image, imageId: tree!, host: LOCAL_HOST_NAME, transferred: false };
  }

  async transferImage(image: string, host: string): Promise<TransferResult> {
    this.checkHost(host);
    const ensured = await this.ensureImage(image);
    return { image, imageId: ensured.imageId, host, bytes: 0, durationMs: 0, transferred: false };
  }

  async startLane(input: LaneSpec, options: StartOptions = {}): Promise<LaneInfo> {
    const spec = validateLaneSpec(input);
    this.checkHost(spec.host);
    const stateDir = await checkStateDir(spec.stateDir);
    const existing = await this.table.read(spec.name);
    if (existing) {
      throw new RuntimeError('WVO_LANE_NAME_TAKEN', `lane "${spec.name}" already exists (${isAlive(existing.pid, existing.main) ? 'running' : 'stopped'}, pid ${existing.pid})`, {
        subject: spec.name,
        hint: `Pick another name, or remove it first: wvo lane stop ${spec.name} --remove.`,
        exitCode: 2,
      });
    }
    const app = spec.app ?? WORKER_APP;
    const { imageId: tree } = await this.ensureImage(spec.image, { app });
    const argv = appCommand(app, spec.image);
    // A command app is told its port (it prints nothing we could read it from); our worker picks one.
    const fixedPort = argv ? await freePort() : undefined;
    // What the process's command line must contain to be this lane (pid-reuse guard).
    const main = argv ? commandScript(argv) : join(tree, WORKER_MAIN);
    const [program, ...args] = argv ?? [process.execPath, main, 'serve'];
    const cwd = argv ? resolve(app.cwd ?? '.') : tree;
    await this.reapUntracked(spec.name);
    await fs.mkdir(this.table.runDir, { recursive: true });
    const logPath = this.table.logPath(spec.name);
    const logFd = openSync(logPath, 'w');
    options.onProgress?.({ phase: 'start', message: `starting lane ${spec.name} (local)` });
    // Detached, output to a file: the lane outlives the command that started it.
    const env = appEnv(app, { port: fixedPort ?? 0, host: '127.0.0.1', stateRoot: stateDir, dryRun: spec.dryRun, sandbox: spec.mode === 'sandbox' }, spec.env);
    const child = execa(program === 'node' ? process.execPath : program!, args, {
      cwd,
      env: { ...env, [LANE_KEY_ENV]: this.table.laneKey(spec.name) },
      extendEnv: true,
      stdin: 'ignore',
      // execa takes a file descriptor at run time; its typings accept only literal numbers.
      stdout: logFd as 1,
      stderr: logFd as 1,
      detached: true,
      cleanup: false,
      reject: false,
    });
    closeSync(logFd);
    let exitCode: number | null | undefined;
    child.on('exit', (code, signal) => (exitCode = code ?? (signal ? -1 : null)));
    child.catch(() => undefined);
    const pid = child.pid;
    const readLog = () => fs.readFile(logPath, 'utf8').catch(() => '');
    let port: number | undefined;
    const record = (ready?: { port: number; url: string }): LocalLaneRecord => ({
      name: spec.name,
      pid: pid!,
      port: ready?.port ?? 0,
      url: ready?.url ?? '',
      image: spec.image,
      tree,
      main,
      stateDir,
      dryRun: spec.dryRun,
      mode: spec.mode,
      role: spec.role,
      ...(spec.deploymentId ? { deploymentId: spec.deploymentId } : {}),
      ...(spec.app ? { app: app.name, health: app.health, mcpPath: app.mcpPath } : {}),
      ...(ready ? {} : { starting: true }),
      startedAt: new Date(this.clock.now()).toISOString(),
    });
    // Recorded at once (synchronously, before the wait): a controller killed mid-start leaves a
    // lane `wvo resume` can find and remove, never an unrecorded process.
    if (pid !== undefined) this.table.writeSync(record());
    try {
      if (pid === undefined) throw new RuntimeError('WVO_LANE_EXITED', `lane ${spec.name} could not be spawned`, { subject: main });
      const url = await waitReady({
        lane: spec.name,
        ...(spec.app ? { health: app.health, mcpPath: app.mcpPath } : {}),
        timeoutMs: options.readyTimeoutMs ?? this.options.readyTimeoutMs ?? 30_000,
        clock: this.clock,
        url: async () => {
          if (fixedPort) {
            port = fixedPort;
            return `http://127.0.0.1:${fixedPort}`;
          }
          const listening = findListening(await readLog());
          port = listening?.port;
          return port ? `http://127.0.0.1:${port}` : undefined;
        },
        failure: async () => {
          if (exitCode === undefined) return undefined;
          const logs = await readLog();
          return new RuntimeError('WVO_LANE_EXITED', `lane ${spec.name} exited during startup (exit code ${exitCode}); last log lines:\n${logExcerpt(logs)}`, {
            subject: spec.name,
            hint: 'Fix the cause shown in the log lines.',
            details: { exitCode, logTail: logs.trimEnd().split('\n').slice(-20) },
          });
        },
        logs: readLog,
      });
      const ready = record({ port: port!, url });
      await this.table.write(ready);
      child.unref();
      this.logger.info({ lane: spec.name, url, pid }, 'lane ready');
      return this.info(ready, 'ready');
    } catch (error) {
      // Nothing half-started: kill the process group and forget the lane.
      if (pid !== undefined && exitCode === undefined) signalGroup(pid, 'SIGKILL');
      await this.table.remove(spec.name);
      throw error;
    }
  }

  /**
   * Kill processes keyed to this lane that its record does not name: what a controller killed
   * between a spawn and the record leaves behind. Without this, `wvo resume` would start a second
   * worker on the live state next to the orphan.
   */
  private async reapUntracked(name: string, tracked?: number): Promise<void> {
    const strays = findKeyed(this.table.laneKey(name)).filter((pid) => pid !== tracked);
    for (const pid of strays) {
      this.logger.warn({ lane: name, pid }, 'killing a lane process no record names (its starter died before recording it)');
      signalGroup(pid, 'SIGKILL');
    }
    // SIGKILL lands asynchronously: return once they are gone, as stopLane does for its own pid
    // (a stray still holds the live state open).
    const deadline = this.clock.now() + 5_000;
    while (strays.some((pid) => isAlive(pid)) && this.clock.now() < deadline) await this.clock.sleep(20);
  }

  private info(record: LocalLaneRecord, status: LaneInfo['status']): LaneInfo {
    const running = status !== 'stopped' && status !== 'exited';
    return {
      name: record.name,
      runtime: 'local',
      host: LOCAL_HOST_NAME,
      image: record.image,
      imageId: record.tree,
      stateDir: record.stateDir,
      dryRun: record.dryRun,
      mode: listedLaneMode(record.mode, record.dryRun),
      role: record.role,
      ...(record.deploymentId ? { deploymentId: record.deploymentId } : {}),
      status,
      ...(running && !record.starting ? { url: record.url, port: record.port } : {}),
      ...(record.app ? { app: record.app, health: record.health ?? '/readyz', mcpPath: record.mcpPath ?? '/mcp' } : {}),
      id: String(record.pid),
      startedAt: record.startedAt,
    };
  }

  private async status(record: LocalLaneRecord): Promise<LaneInfo['status']> {
    if (record.stoppedAt || !isAlive(record.pid, record.main)) return 'stopped';
    if (record.starting) return 'starting';
    return (await probeReady(record.url, 500, record.health, record.mcpPath)).ready ? 'ready' : 'unhealthy';
  }

  private async require(name: string): Promise<LocalLaneRecord> {
    const record = await this.table.read(name);
    if (!record) throw laneNotFound(name, 'the local runtime');
    return record;
  }

  async stopLane(name: string, options: StopOptions = {}): Promise<LaneInfo> {
    const record = await this.require(name);
    const timeoutMs = options.timeoutMs ?? this.options.stopTimeoutMs ?? 10_000;
    if (isAlive(record.pid, record.main)) {
      signalGroup(record.pid, 'SIGTERM');
      const deadline = this.clock.now() + timeoutMs;
      while (isAlive(record.pid, record.main) && this.clock.now() < deadline) await this.clock.sleep(50);
      if (isAlive(record.pid, record.main)) {
        this.logger.warn({ lane: name, pid: record.pid }, 'lane ignored SIGTERM; killing');
        signalGroup(record.pid, 'SIGKILL');
        while (isAlive(record.pid, record.main)) await this.clock.sleep(20);
      }
    }
    await this.reapUntracked(name, record.pid);
    const stopped = { ...record, stoppedAt: record.stoppedAt ?? new Date(this.clock.now()).toISOString() };
    await this.table.write(stopped);
    return this.info(stopped, 'stopped');
  }

  async removeLane(name: string, options: StopOptions = {}): Promise<void> {
    if (!(await this.table.read(name))) return;
    await this.stopLane(name, options);
    await this.table.remove(name);
  }

  async health(name: string, options: HealthOptions = {}): Promise<LaneHealth> {
    const record = await this.require(name);
    if (record.stoppedAt || !isAlive(record.pid, record.main)) return { name, ready: false, status: 'stopped', detail: 'not running' };
    if (record.starting) return { name, ready: false, status: 'starting', detail: 'never reported ready (its starter stopped waiting)' };
    const probe = await probeReady(record.url, options.probeTimeoutMs ?? 1000, record.health, record.mcpPath);
    return { name, ready: probe.ready, status: probe.ready ? 'ready' : 'unhealthy', ...(probe.httpStatus ? { httpStatus: probe.httpStatus } : {}), ...(probe.detail ? { detail: probe.detail } : {}) };
  }

  async logs(name: string, options: LogOptions = {}): Promise<string> {
    await this.require(name);
    const text = await fs.readFile(this.table.logPath(name), 'utf8').catch(() => '');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-(options.tail ?? 100)).join('\n') + (lines.length ? '\n' : '');
  }

  async listLanes(options: { host?: string } = {}): Promise<LaneInfo[]> {
    this.checkHost(options.host);
    const records = await this.table.all();
    return Promise.all(records.map(async (record) => this.info(record, await this.status(record))));
  }

  async getLane(name: string): Promise<LaneInfo | undefined> {
    const record = await this.table.read(name);
    return record ? this.info(record, await this.status(record)) : undefined;
  }

  async close(): Promise<void> {
    /* lanes are detached on purpose: they keep running */
  }
}

/** The script a command app runs (its first `.js` argument, else the program). */
function commandScript(argv: readonly string[]): string {
  return argv.slice(1).find((arg) => /\.(c|m)?js$/.test(arg)) ?? argv[0]!;
}

/** Signal the lane's process group (it was spawned detached, so it leads one), falling back to the pid. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (!(pid > 0)) return; // never 0 or -1: those address our own group, or every process
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}
