import { z } from 'zod';
import { appsSchema } from './app-schema.js';

/**
 * wvo.config.json, declared once. Each top-level key is a section; other rooms add theirs to
 * `configSections` (shadow thresholds, proxy, promotion…). Unknown keys are rejected so a typo
 * is an error that names its JSON path, not a silently ignored setting.
 */

export const RUNTIME_CHOICES = ['auto', 'docker', 'local', 'swarm'] as const;
export const HOST_NETWORK_MODES = ['auto', 'bridge', 'host'] as const;
export const HOST_STATE_MODES = ['auto', 'bind', 'volume'] as const;
/** How bridge-networked lanes are addressed: a port published on the host, or their name on the project network. */
export const LANE_ADDRESS_MODES = ['published', 'network'] as const;

const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'lowercase letters, digits, . _ - (max 63)');

export const hostSchema = z.strictObject({
  name: nameSchema,
  /** unix:///var/run/docker.sock | tcp://HOST:PORT | ssh://USER@HOST[:PORT] */
  docker: z.string().min(1),
  tls: z
    .strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() })
    .optional(),
  /** ssh:// endpoints: the private key to log in with (else the ssh agent) and the host keys to trust. */
  ssh: z
    .strictObject({
      identityFile: z.string().optional(),
      /** OpenSSH known_hosts; when set, an engine host whose key is not listed is refused (WVO_ENGINE_UNTRUSTED). */
      knownHostsFile: z.string().optional(),
    })
    .optional(),
  /** Address lanes on this host are reached at (default: 127.0.0.1 for unix, the URL's host otherwise). */
  address: z.string().optional(),
  /** bridge: project network + port published on 127.0.0.1; host: `--network host` (engines without a bridge). */
  network: z.enum(HOST_NETWORK_MODES).default('auto'),
  /**
   * Where lane state lives: bind (a directory of this machine mounted into the lane), volume (a
   * copy prepared on that host through the Docker API, verified there; removed with the lane).
   * auto (default when absent): bind for the local engine, volume for every other host.
   */
  state: z.enum(HOST_STATE_MODES).optional(),
});
export type HostConfig = z.output<typeof hostSchema>;

export const lanesSchema = z.strictObject({
  readyTimeoutMs: z.number().int().positive().default(30_000),
  stopTimeoutMs: z.number().int().nonnegative().default(10_000),
  memoryMb: z.number().int().positive().default(512),
  cpus: z.number().positive().default(1),
  pidsLimit: z.number().int().positive().default(256),
  /** Ports chosen for lanes on host-network engines. */
  portRange: z
    .tuple([z.number().int().min(1024).max(65535), z.number().int().min(1024).max(65535)])
    .refine(([lo, hi]) => lo <= hi, 'portRange must be [low, high]')
    .default([20000, 29999]),
  /**
   * published: port 8080 published on the host's 127.0.0.1, URL `http://127.0.0.1:<port>` (controller
   * and proxy on the host). network: nothing published, URL `http://<container name>:8080` on the
   * project network (`network`), for a controller and proxy that run as containers on it (compose).
   */
  address: z.enum(LANE_ADDRESS_MODES).default('published'),
});

export const imagesSchema = z.strictObject({
  worker: z.string().default('wvo-worker'),
  controller: z.string().default('wvo-controller'),
  /** Default tag for `wvo images build` (default: the package version). */
  tag: z.string().optional(),
  nodeImage: z.string().default('node:20-bookworm-slim'),
  /** Try to pull nodeImage when it is missing locally (else build the offline base at once). */
  pull: z.boolean().default(true),
  baseImage: z.string().default('wvo-node-base'),
  /**
   * Staged worker images (docker) or trees under tmp/wv-images (local) that `wvo images prune`
   * and the end of a completed `wvo upgrade` keep beyond those in use: the N newest.
   */
  keepStaged: z.number().int().nonnegative().default(5),
});

export const localSchema = z.strictObject({
  /** Image tag → built tree (a directory holding dist/worker/src/main.js) for the local runtime. */
  trees: z.record(z.string(), z.string()).default({}),
});

/**
 * runtime "swarm": lanes are Swarm services, placed by a node label on the node that holds their
 * state; ports published in host mode (no routing mesh), images loaded on that node first.
 */
export const swarmSchema = z.strictObject({
  /** The host (in `hosts`, or "local") whose engine is a swarm manager. */
  manager: nameSchema.default('local'),
  /** The node label lanes are placed by: `node.labels.<labelKey> == <label>`. */
  labelKey: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/).default('wvo.node'),
  /**
   * The nodes lanes may run on: a node's label value and the host (its own engine, in `hosts` or
   * "local") images are loaded on and state is prepared on. Lanes pick one by `--host LABEL`.
   */
  nodes: z.array(z.strictObject({ label: nameSchema, host: nameSchema })).default([]),
  /** The node label lanes go to without `--host` (default: the first node). */
  defaultNode: nameSchema.optional(),
});

/** Where the controller reaches `wvo proxy`'s admin API (promotion switches lanes through it). */
export const proxySchema = z.strictObject({
  /** `http://host:port` or `unix:/path` (what `wvo proxy --admin` listens on). */
  admin: z.string().min(1).default('http://127.0.0.1:8081'),
  /** File holding the admin bearer token; else env WVO_PROXY_TOKEN. Relative to the config's directory. */
  tokenFile: z.string().optional(),
});

/** What a fleet does with deployments already promoted when a later one fails. */
export const FLEET_FAILURE_POLICIES = ['keep', 'rollback'] as const;

/**
 * A fleet (issue 14): orchestrators upgraded together in waves. Each deployment is one
 * orchestrator with its own lanes (`app`, the lanes' project name), its own state root (live
 * state and its own controller.db) and its own proxy. Shapes only: the fleet room checks
 * wave sizes, shared state and host names with coded errors naming the field.
 */
export const fleetDeploymentSchema = z.strictObject({
  name: nameSchema,
  /** A Docker host (`hosts[].name` or "local") its lanes run on (runtime docker)… */
  host: nameSchema.optional(),
  /** …or a swarm node label (`swarm.nodes[].label`, runtime swarm). */
  node: nameSchema.optional(),
  /** The lanes' project name (container/service prefix, `wvo.project` label); default `<projectName>-<name>`. */
  app: nameSchema.optional(),
  /** Its state root (live state + its controller.db), relative to the config's directory. */
  state: z.string().min(1),
  proxy: proxySchema,
});
export const fleetSchema = z.strictObject({
  deployments: z.array(fleetDeploymentSchema).default([]),
  waves: z
    .strictObject({
      /** Deployments per wave (default 1); not with `sizes`. */
      size: z.number().int().optional(),
      /** Progressive wave sizes: counts, percentages of the fleet, `rest` last: `[1, "25%", "rest"]`. */
      sizes: z.array(z.union([z.number(), z.string()])).optional(),
      /** Observe window per wave, the last repeating: `["10m", "2m"]` (overrides the promotion's). */
      observe: z.array(z.union([z.number(), z.string()])).optional(),
      /** Promotions starting at once inside a wave (Kamal's boot.limit); default the wave size. */
      bootLimit: z.number().int().optional(),
      /** Pause between waves (Kamal's boot.wait): `30s`, `2m` or milliseconds. */
      pause: z.union([z.string(), z.number()]).default(0),
    })
    .prefault({}),
  onFailure: z.enum(FLEET_FAILURE_POLICIES).default('keep'),
});

export const configSections = {
  runtime: z.enum(RUNTIME_CHOICES).default('auto'),
  /** Prefix of container names and the `wvo.project` label; one project per engine user. */
  projectName: nameSchema.default('wvo'),
  /** Project network (default: `<projectName>-net`). */
  network: nameSchema.optional(),
  stateRoot: z.string().default('./state'),
  /** Remote (or extra local) engines; a host named "local" (DOCKER_HOST or the default socket) always exists. */
  hosts: z.array(hostSchema).default([]),
  defaultHost: nameSchema.default('local'),
  lanes: lanesSchema.prefault({}),
  images: imagesSchema.prefault({}),
  local: localSchema.prefault({}),
  proxy: proxySchema.prefault({}),
  swarm: swarmSchema.optional(),
  fleet: fleetSchema.optional(),
  /** MCP servers WVO upgrades besides our worker (the app `worker`, built in). */
  apps: appsSchema,
};

export const configSchema = z
  .strictObject({ $schema: z.string().optional(), ...configSections })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.hosts.forEach((host, index) => {
      if (seen.has(host.name)) ctx.addIssue({ code: 'custom', path: ['hosts', index, 'name'], message: `duplicate host name "${host.name}"` });
      seen.add(host.name);
    });
    if (config.defaultHost !== 'local' && !seen.has(config.defaultHost)) {
      ctx.addIssue({ code: 'custom', path: ['defaultHost'], message: `no host named "${config.defaultHost}" in hosts` });
    }
    const known = (name: string) => name === 'local' || seen.has(name);
    const swarm = config.swarm;
    if (config.runtime === 'swarm' && (!swarm || swarm.nodes.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['swarm', 'nodes'], message: 'runtime "swarm" needs at least one node (label and host)' });
    }
    if (!swarm) return;
    if (!known(swarm.manager)) ctx.addIssue({ code: 'custom', path: ['swarm', 'manager'], message: `no host named "${swarm.manager}" in hosts` });
    const labels = new Set<string>();
    swarm.nodes.forEach((node, index) => {
      if (labels.has(node.label)) ctx.addIssue({ code: 'custom', path: ['swarm', 'nodes', index, 'label'], message: `duplicate node label "${node.label}"` });
      labels.add(node.label);
      if (!known(node.host)) ctx.addIssue({ code: 'custom', path: ['swarm', 'nodes', index, 'host'], message: `no host named "${node.host}" in hosts` });
    });
    if (swarm.defaultNode !== undefined && !labels.has(swarm.defaultNode)) {
      ctx.addIssue({ code: 'custom', path: ['swarm', 'defaultNode'], message: `no node labelled "${swarm.defaultNode}" in swarm.nodes` });
    }
  });

export type WvoConfig = z.output<typeof configSchema>;
export type WvoConfigInput = z.input<typeof configSchema>;
