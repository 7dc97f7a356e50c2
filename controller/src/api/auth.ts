import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { apiErrors } from './errors.js';

export const TOKEN_ENV = 'WVO_CONTROLLER_TOKEN';

/** Both sides hashed first: equal lengths for timingSafeEqual, and no length leak. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A bearer-token check in constant time. An empty expected token never matches. */
export function bearerChecker(expected: string): (authorization: string | undefined) => boolean {
  const want = digest(expected);
  return (authorization) => {
    const header = authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    // Compare even when the header is malformed, so every refusal costs the same.
    const same = timingSafeEqual(digest(token), want);
    return same && token.length > 0 && expected.length > 0;
  };
}

/** The token from `--token-file`, else env WVO_CONTROLLER_TOKEN; undefined when neither gives one. */
export async function readControllerToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (tokenFile) {
    let text: string;
    try {
      text = await readFile(tokenFile, 'utf8');
    } catch (error) {
      throw apiErrors.create('WVO_CONTROLLER_TOKEN_MISSING', `cannot read token file ${tokenFile}: ${(error as Error).message}`, {
        subject: '--token-file',
        hint: 'point --token-file at a readable file holding the token',
      });
    }
    const token = text.trim();
    if (!token) {
      throw apiErrors.create('WVO_CONTROLLER_TOKEN_MISSING', `token file ${tokenFile} is empty`, { subject: '--token-file' });
    }
    return token;
  }
  const fromEnv = env[TOKEN_ENV]?.trim();
  return fromEnv ? fromEnv : undefined;
}
