import { connectMcp, type McpSession } from '../../../common/src/mcp-client.js';
import { fetchSurfaceLists } from '../../../common/src/mcp-surface.js';
import { shadowErrors } from './errors.js';
import type { RawSurface } from './tool-surface-types.js';

export interface FetchSurfaceOptions {
  /** Per list request. Default 10 s. */
  timeoutMs?: number;
}

function unreachable(url: string, step: string, error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  const notMcp = /Unexpected content type/.test(message);
  return shadowErrors.create(
    'WVO_SHADOW_SURFACE_UNREACHABLE',
    notMcp ? `${url} is not an MCP server (${step}: ${message})` : `${step} at ${url} failed: ${message}`,
    { subject: url, cause: error, hint: 'check the lane serves MCP Streamable HTTP at that URL (a bare origin means /mcp)' },
  );
}

/**
 * The four lists a lane advertises, fetched with the official SDK client. A list whose capability
 * the server does not declare (a server without prompts or resources) is empty, not an error.
 * The session is closed (DELETE) before returning.
 */
export async function fetchToolSurface(url: string, options: FetchSurfaceOptions = {}): Promise<RawSurface> {
  let session: McpSession;
  try {
    session = await connectMcp(url, 'wvo-tool-surface');
  } catch (error) {
    throw unreachable(url, 'initialize', error);
  }
  try {
    return await fetchSurfaceLists(session.client, { timeout: options.timeoutMs ?? 10_000 });
  } catch (error) {
    throw unreachable(url, 'listing', error);
  } finally {
    await session.close().catch(() => undefined);
  }
}
