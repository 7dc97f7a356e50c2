import { ProxyError } from './errors.js';

/**
 * How a lane's health is checked: `http` GETs a path and wants 2xx (our worker's `/readyz`);
 * `mcp` opens an MCP session at a path and wants `ping` and `tools/list` answered (any MCP server).
 */
export const HEALTH_KINDS = ['http', 'mcp'] as const;
export type HealthKind = (typeof HEALTH_KINDS)[number];

export interface HealthSpec {
  readonly kind: HealthKind;
  readonly path: string;
}

export const DEFAULT_HEALTH = '/readyz';
export const DEFAULT_MCP_PATH = '/mcp';

const PATH = /^\/[^\s#]{0,1023}$/;

/**
 * `/path` or `http:/path` → HTTP GET; `mcp` (at /mcp) or `mcp:/path` → MCP. A bad spec is a coded
 * error naming `field` (the flag or the admin body field).
 */
export function parseHealthSpec(value: unknown, field: string): HealthSpec {
  const invalid = (why: string) =>
    new ProxyError('WVO_PROXY_HEALTH_INVALID', `${field}: ${why}, got ${JSON.stringify(value)}`, {
      subject: field,
      hint: 'use /readyz (HTTP GET, 2xx = healthy), http:/path, mcp (initialize + ping + tools/list at /mcp) or mcp:/path',
      exitCode: 2,
    });
  if (typeof value !== 'string') throw invalid('expected a string');
  const text = value.trim();
  let kind: HealthKind = 'http';
  let path = text;
  if (text === 'mcp') [kind, path] = ['mcp', DEFAULT_MCP_PATH];
  else if (text.startsWith('mcp:')) [kind, path] = ['mcp', text.slice('mcp:'.length)];
  else if (text.startsWith('http:')) path = text.slice('http:'.length);
  if (!PATH.test(path)) throw invalid(`the ${kind} health path must start with "/" and have no spaces`);
  return { kind, path };
}

/** The spec's canonical text (what the route table stores and GET /lanes shows). */
export function formatHealthSpec(spec: HealthSpec): string {
  if (spec.kind === 'http') return spec.path;
  return spec.path === DEFAULT_MCP_PATH ? 'mcp' : `mcp:${spec.path}`;
}
