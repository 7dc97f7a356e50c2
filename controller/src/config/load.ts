import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { configSchema, type WvoConfig } from './schema.js';
import { configErrors } from './errors.js';

export const CONFIG_FILE = 'wvo.config.json';

/** Environment variables that override config keys (applied before validation). */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: readonly string[]; parse: (value: string) => unknown }> = [
  { env: 'WVO_RUNTIME', path: ['runtime'], parse: (v) => v },
  { env: 'WVO_PROJECT', path: ['projectName'], parse: (v) => v },
  { env: 'WVO_DEFAULT_HOST', path: ['defaultHost'], parse: (v) => v },
  { env: 'WVO_NODE_IMAGE', path: ['images', 'nodeImage'], parse: (v) => v },
  { env: 'WVO_IMAGE_PULL', path: ['images', 'pull'], parse: (v) => !['0', 'false', 'no'].includes(v.toLowerCase()) },
  { env: 'WVO_READY_TIMEOUT_MS', path: ['lanes', 'readyTimeoutMs'], parse: (v) => (/^\d+$/.test(v) ? Number(v) : v) },
];

export interface LoadConfigOptions {
  /** Explicit file (flag or WVO_CONFIG): must exist. Otherwise `<cwd>/wvo.config.json` if present. */
  file?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: WvoConfig;
  /** The file read, if any. Relative paths in the config resolve against its directory. */
  file?: string;
  baseDir: string;
}

/** `a.b[2].c` from a zod path. */
export function formatJsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '') || '(root)';
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Validate a raw object; errors name the JSON path (and the env var, for overridden keys). */
export function parseConfig(raw: unknown, source = CONFIG_FILE, overridden: Map<string, string> = new Map()): WvoConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue: z.core.$ZodIssue) => {
    const path = formatJsonPath(issue.path);
    const env = [...overridden.entries()].find(([p]) => path === p || path.startsWith(`${p}.`))?.[1];
    const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    return { path, message: `${issue.message}${keys}`, ...(env ? { env } : {}) };
  });
  const first = issues[0]!;
  const from = first.env ? `env ${first.env}` : source;
  const app = /^apps\.([^.[]+)\.?(.*)$/.exec(first.path);
  if (app) {
    // An app's own code names the app and the field (`port`, `mcpPath`, `health`…).
    throw configErrors.create('WVO_APP_INVALID', `${from}: app ${app[1]}: ${app[2] || '(the app)'}: ${first.message}`, {
      subject: first.path,
      hint: `Fix ${first.path} in ${source} (an app needs port, mcpPath, and an image, workspace or command).`,
      details: { app: app[1], field: app[2], issues },
    });
  }
  throw configErrors.create('WVO_CONFIG_INVALID', `${from}: ${first.path}: ${first.message}`, {
    subject: first.path,
    hint: `Fix ${first.path} in ${first.env ? `the environment variable ${first.env}` : source}.`,
    details: { issues },
  });
}

/** Read wvo.config.json (optional unless named), apply env overrides, validate. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? (env.WVO_CONFIG || undefined);
  const file = resolve(cwd, named ?? CONFIG_FILE);
  let raw: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (named || (error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw configErrors.create('WVO_CONFIG_UNREADABLE', `cannot read config ${file}: ${(error as Error).message}`, {
        subject: file,
        hint: 'Check the path given with --config or WVO_CONFIG.',
      });
    }
  }
  if (text !== undefined) {
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw configErrors.create('WVO_CONFIG_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, {
        subject: file,
        hint: 'Fix the JSON syntax.',
      });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw configErrors.create('WVO_CONFIG_INVALID', `${file}: the top level must be an object`, { subject: '(root)' });
    }
  }
  const overridden = new Map<string, string>();
  for (const override of ENV_OVERRIDES) {
    const value = env[override.env];
    if (value === undefined || value === '') continue;
    setPath(raw, override.path, override.parse(value));
    overridden.set(override.path.join('.'), override.env);
  }
  const config = parseConfig(raw, text === undefined ? 'defaults' : file, overridden);
  return { config, ...(text === undefined ? {} : { file }), baseDir: text === undefined ? cwd : dirname(file) };
}
