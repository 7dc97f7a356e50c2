import { Transform } from 'node:stream';
import { RuntimeError } from '../errors.js';
import type { Progress, TransferResult } from '../lane-runtime.js';
import { isNotFound, type DockerHost } from './engine.js';

async function imageId(host: DockerHost, image: string): Promise<string | undefined> {
  try {
    return (await host.docker.getImage(image).inspect()).Id;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Stream `image` from one engine to another (save → load, like `docker save | docker load`),
 * with byte progress, then check the target has the same image id.
 */
export async function transferImage(from: DockerHost, to: DockerHost, image: string, onProgress?: Progress): Promise<TransferResult> {
  const started = Date.now();
  const sourceId = await imageId(from, image);
  if (!sourceId) {
    throw new RuntimeError('WVO_IMAGE_NOT_FOUND', `image ${image} is not on host "${from.name}", so it cannot be sent to "${to.name}"`, {
      subject: image,
      hint: 'Build it first (wvo images build) or check the tag.',
    });
  }
  const fail = (why: string, cause?: unknown) =>
    new RuntimeError('WVO_TRANSFER_FAILED', `sending ${image} to host "${to.name}" (${to.endpoint.url}) failed: ${why}`, {
      subject: to.endpoint.url,
      hint: `Check that host "${to.name}" answers (wvo hosts check) and has disk space; or load the image there by hand (docker save | docker load).`,
      details: { image, host: to.name },
      ...(cause === undefined ? {} : { cause }),
    });
  try {
    if ((await imageId(to, image)) === sourceId) return { image, imageId: sourceId, host: to.name, bytes: 0, durationMs: Date.now() - started, transferred: false };
  } catch (error) {
    throw fail((error as Error).message, error);
  }
  let bytes = 0;
  let lastReport = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (onProgress && bytes - lastReport >= 8 * 1024 * 1024) {
        lastReport = bytes;
        onProgress({ phase: 'transfer', message: `${image} → ${to.name}`, current: bytes });
      }
      callback(null, chunk);
    },
  });
  try {
    const saved = await from.docker.getImage(image).get();
    saved.on('error', (error) => counter.destroy(error));
    const response = await to.docker.loadImage(saved.pipe(counter), { quiet: true } as Record<string, unknown>);
    let text = '';
    for await (const chunk of response as AsyncIterable<Buffer>) text += chunk.toString();
    const error = /"error(?:Detail)?":\s*"([^"]+)"/.exec(text)?.[1];
    if (error) throw new Error(error);
  } catch (error) {
    throw fail((error as Error).message, error);
  }
  let loadedId: string | undefined;
  try {
    loadedId = await imageId(to, image);
  } catch (error) {
    throw fail((error as Error).message, error);
  }
  if (loadedId !== sourceId) throw fail(`image id on the target is ${loadedId ?? 'missing'}, expected ${sourceId}`);
  onProgress?.({ phase: 'transfer', message: `${image} → ${to.name} done`, current: bytes, total: bytes });
  return { image, imageId: sourceId, host: to.name, bytes, durationMs: Date.now() - started, transferred: true };
}
