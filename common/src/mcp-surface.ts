import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';

/**
 * What an MCP server advertises, as its list results say it (raw: items are not validated here,
 * so a tool with a broken JSON Schema still arrives and can be reported by name). A list whose
 * capability the server does not declare is empty, not an error.
 */
export interface SurfaceLists {
  tools: unknown[];
  prompts: unknown[];
  resources: unknown[];
  resourceTemplates: unknown[];
}

export const SURFACE_LISTS = ['tools', 'prompts', 'resources', 'resourceTemplates'] as const;
export type SurfaceList = (typeof SURFACE_LISTS)[number];

const METHODS: Record<SurfaceList, string> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};

/** Pages followed at most (a server that keeps returning cursors must not loop us forever). */
const MAX_PAGES = 100;

const pageSchema = (key: SurfaceList) => z.looseObject({ [key]: z.array(z.unknown()), nextCursor: z.string().optional() });

/** The lists `client`'s server declares capabilities for, which `only` names (default all four). */
export function advertisedLists(client: Client, only: readonly SurfaceList[] = SURFACE_LISTS): SurfaceList[] {
  const caps = client.getServerCapabilities() ?? {};
  return only.filter((list) => (list === 'tools' ? caps.tools : list === 'prompts' ? caps.prompts : caps.resources) !== undefined);
}

/** Every page of one list. */
export async function listAll(client: Client, list: SurfaceList, options: RequestOptions = {}): Promise<unknown[]> {
  const schema = pageSchema(list);
  const items: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = (await client.request({ method: METHODS[list], params: cursor ? { cursor } : {} }, schema, options)) as Record<string, unknown>;
    items.push(...(result[list] as unknown[]));
    cursor = result.nextCursor as string | undefined;
    if (!cursor) break;
  }
  return items;
}

/** The four lists of a connected client's server, fetched in parallel. */
export async function fetchSurfaceLists(client: Client, options: RequestOptions = {}): Promise<SurfaceLists> {
  const lists: SurfaceLists = { tools: [], prompts: [], resources: [], resourceTemplates: [] };
  await Promise.all(
    advertisedLists(client).map(async (list) => {
      lists[list] = await listAll(client, list, options);
    }),
  );
  return lists;
}
