import { request, type Dispatcher } from 'undici';

export interface JsonCallOptions {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  /** Bearer token, when the endpoint wants one. */
  token?: string;
  dispatcher?: Dispatcher;
  timeoutMs: number;
  /** Return the body as text (Prometheus exposition) instead of parsing JSON. */
  text?: boolean;
  /** The coded error for "no answer at all" (connection refused, timeout). */
  unreachable: (error: unknown) => Error;
  /** The coded error for an HTTP status ≥ 400, given the body parsed as JSON when it is JSON. */
  failed: (status: number, json: unknown, raw: string) => Error;
}

/**
 * One JSON call to a WVO admin/control API (the controller's, the proxy's): bearer token, JSON
 * body, timeouts, and the two failure shapes turned into the caller's coded errors.
 */
export async function callJson<T>(options: JsonCallOptions): Promise<T> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(options.url, {
      method: options.method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  } catch (error) {
    throw options.unreachable(error);
  }
  const raw = await response.body.text();
  if (response.statusCode >= 400) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    throw options.failed(response.statusCode, json, raw);
  }
  return (options.text ? raw : JSON.parse(raw)) as T;
}
