import { z } from 'zod';

/**
 * An app is an MCP Streamable HTTP server WVO upgrades: how to get it (a workspace built with its
 * Dockerfile, an image reference, or a local command), where it listens and serves MCP, how its
 * health is checked, what state it keeps, how it is told it is a shadow, and its suites. Our
 * worker is the app `worker` (DEFAULT_APPS), configured the same way.
 */

export const APP_STATE_KINDS = ['none', 'dir', 'sqlite'] as const;
export type AppStateKind = (typeof APP_STATE_KINDS)[number];

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const path = z.string().regex(/^\/[^\s#]{0,1023}$/, 'a path starting with "/"');
/** `/path`, `http:/path`, `mcp` or `mcp:/path` (the proxy's --health syntax). */
const healthSpec = z.string().regex(/^(mcp|mcp:\/[^\s#]*|http:\/[^\s#]*|\/[^\s#]*)$/, 'mcp, mcp:/path, /path or http:/path');

export const appStateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  /** An opaque directory: copied for each shadow lane, never diffed. */
  z.strictObject({ kind: z.literal('dir'), mount: path.default('/state') }),
  /** SQLite files (relative to the state directory): consistent copies, diffed by table. */
  z.strictObject({ kind: z.literal('sqlite'), mount: path.default('/state'), files: z.array(z.string().min(1)).min(1) }),
]);
export type AppState = z.output<typeof appStateSchema>;

export const appSchema = z
  .strictObject({
    /** Where the baseline image comes from when no lane runs it (`--baseline` overrides). */
    image: z.string().min(1).optional(),
    /** Built by `wvo upgrade` from a workspace (our worker). */
    workspace: z
      .strictObject({
        dockerfile: z.string().min(1),
        /**
         * The npm script that builds what the lane runs in the staged tree (default `build`); a
         * staged tree without it (an older commit) is built with `build`.
         */
        buildScript: z.string().min(1).default('build'),
      })
      .optional(),
    /** Local runtime: the argv that starts the server; `{image}` is replaced by the version's image name. */
    command: z.array(z.string().min(1)).min(1).optional(),
    /** Working directory of `command`, relative to the config's directory. */
    cwd: z.string().optional(),
    port: z.number().int().min(1).max(65535),
    mcpPath: path,
    /** Default `mcp` (initialize + ping + tools/list). */
    health: healthSpec.default('mcp'),
    /** Environment variable names the app reads (port, listen address, state root, shadow flags). */
    env: z
      .strictObject({ port: envName.optional(), host: envName.optional(), stateRoot: envName.optional(), dryRun: envName.optional(), sandbox: envName.optional() })
      .default({}),
    state: appStateSchema.default({ kind: 'none' }),
    /**
     * How a shadow lane is told it is one: `env` (set to 1) or nothing. Without it the default
     * suite calls only tools annotated `readOnlyHint: true` (or listed in `safeTools`).
     */
    shadow: z.strictObject({ env: envName }).optional(),
    /** Suite files (JSON or YAML) run against its shadow lanes, relative to the config's directory. */
    suites: z.array(z.string().min(1)).default([]),
    /** Tools a suite may call on an app without a shadow mode although not annotated read-only. */
    safeTools: z.array(z.string().min(1)).default([]),
  })
  .superRefine((app, ctx) => {
    if (!app.image && !app.workspace && !app.command) {
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'an app needs an image, a workspace (dockerfile) or a command' });
    }
  });
export type AppConfig = z.output<typeof appSchema>;

/** Our worker, as an app (the default, and what `wvo upgrade` without --app upgrades). */
export const WORKER_APP_CONFIG: AppConfig = {
  // The lane runs dist/{common,worker}: compiling the controller too would double the build.
  workspace: { dockerfile: 'images/worker.Dockerfile', buildScript: 'build:worker' },
  port: 8080,
  mcpPath: '/mcp',
  health: '/readyz',
  env: { port: 'WVO_PORT', host: 'WVO_HOST', stateRoot: 'WVO_STATE_ROOT', dryRun: 'WVO_DRY_RUN', sandbox: 'WVO_SANDBOX' },
  state: { kind: 'sqlite', mount: '/state', files: ['orchestrator.db'] },
  shadow: { env: 'WVO_SANDBOX' },
  suites: [],
  safeTools: [],
};

export const DEFAULT_APP = 'worker';

export const appsSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits, dashes'), appSchema).default({});
