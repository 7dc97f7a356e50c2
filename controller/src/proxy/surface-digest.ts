import { createHash } from 'node:crypto';
import { canonicalJson } from '../../../common/src/canonical-json.js';
import type { SurfaceList, SurfaceLists } from '../../../common/src/mcp-surface.js';

/**
 * A lane's advertised surface in a few bytes: one digest per list (tools, prompts, resources,
 * resource templates), taken by the MCP health check. Two lanes whose digests differ advertise
 * different lists, so a session moved between them is told to list again (`list_changed`).
 */
export type SurfaceDigest = Readonly<Record<SurfaceList, string>>;

function digestList(items: readonly unknown[]): string {
  // Order is not part of the surface: a server may list the same items in another order.
  const texts = items.map(canonicalJson).sort();
  return createHash('sha256').update(texts.join('\n')).digest('hex').slice(0, 16);
}

export function digestSurface(lists: SurfaceLists): SurfaceDigest {
  return {
    tools: digestList(lists.tools),
    prompts: digestList(lists.prompts),
    resources: digestList(lists.resources),
    resourceTemplates: digestList(lists.resourceTemplates),
  };
}

/** The notification that tells a client to list again, per list (templates ride with resources). */
const LIST_CHANGED: Record<SurfaceList, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

/**
 * The `list_changed` notifications a session moving from `from` to `to` is owed. Nothing when
 * either surface is unknown (a lane checked over HTTP, or not checked yet): no guessing.
 */
export function listChangedMethods(from: SurfaceDigest | undefined, to: SurfaceDigest | undefined): string[] {
  if (from === undefined || to === undefined) return [];
  const methods = new Set<string>();
  for (const list of Object.keys(LIST_CHANGED) as SurfaceList[]) if (from[list] !== to[list]) methods.add(LIST_CHANGED[list]);
  return [...methods];
}

/** The notifications as SSE events, written ahead of a GET stream's first lane event. */
export function listChangedEvents(methods: Iterable<string>): Buffer {
  let text = '';
  for (const method of methods) text += `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method })}\n\n`;
  return Buffer.from(text);
}
