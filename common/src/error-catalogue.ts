import { WvoError, type WvoErrorOptions } from './errors.js';

/**
 * Error catalogues (fastify's `lib/errors.js`): each room declares its codes once, with the
 * default message, the HTTP status an API answers with and the CLI exit code. Throw sites build
 * errors from the catalogue, so a code cannot exist without its status and exit code, and
 * test/unit/errors-documented.test.ts checks catalogues ↔ docs/errors.md in both directions.
 */
export interface ErrorSpec {
  /** Used when the throw site gives no message of its own. */
  readonly message: string;
  /** What an HTTP API answers when this error reaches it (default 500). */
  readonly status?: number;
  /** CLI exit code: 1 failure (default), 2 usage error (a bad flag, file or field). */
  readonly exitCode?: 1 | 2;
}

export type ErrorCatalogue = Readonly<Record<string, ErrorSpec>>;

export interface RegisteredError extends ErrorSpec {
  readonly code: string;
  /** The room whose catalogue declares the code. */
  readonly room: string;
}

const REGISTRY = new Map<string, RegisteredError>();

/**
 * Options of one throw: everything but the status, which the catalogue owns. `exitCode` is an
 * override for the rare code that is a usage error at one site and a failure at another; it must
 * differ from the catalogue's (test/unit/errors-catalogued.test.ts checks).
 */
export type CatalogueErrorOptions = Omit<WvoErrorOptions, 'status'>;

export interface ErrorFactory<C extends ErrorCatalogue> {
  readonly room: string;
  readonly catalogue: C;
  /** A WvoError for `code`, with the catalogue's status and exit code. */
  create(code: keyof C & string, message?: string, options?: CatalogueErrorOptions): WvoError;
  /** The constructor options of `code` (catalogue status and exit code), for subclasses built on a catalogue. */
  options(code: keyof C & string, options?: CatalogueErrorOptions): WvoErrorOptions;
}

/**
 * Declares a room's codes. A code declared by two rooms is a programming error, caught when the
 * second catalogue loads (every catalogue is loaded by the documentation test).
 */
export function defineErrors<const C extends ErrorCatalogue>(room: string, catalogue: C): ErrorFactory<C> {
  for (const [code, spec] of Object.entries(catalogue)) {
    if (!/^WVO_[A-Z0-9_]+$/.test(code)) throw new TypeError(`error code ${code} (room ${room}) must match WVO_[A-Z0-9_]+`);
    const earlier = REGISTRY.get(code);
    if (earlier && earlier.room !== room) throw new TypeError(`error code ${code} is declared by rooms ${earlier.room} and ${room}`);
    REGISTRY.set(code, { code, room, ...spec });
  }
  const resolve = (code: keyof C & string, options: CatalogueErrorOptions = {}): WvoErrorOptions => {
    const spec = catalogue[code]!;
    return { ...options, status: spec.status ?? 500, exitCode: options.exitCode ?? spec.exitCode ?? 1 };
  };
  return {
    room,
    catalogue,
    create: (code, message, options) => new WvoError(code, message ?? catalogue[code]!.message, resolve(code, options)),
    options: resolve,
  };
}

/** The declaration of `code`, when a loaded catalogue declares it. */
export function errorSpec(code: string): RegisteredError | undefined {
  return REGISTRY.get(code);
}

/** Every code of every catalogue loaded so far. */
export function registeredErrors(): RegisteredError[] {
  return [...REGISTRY.values()];
}

/** A WvoError as it crosses a thread or process boundary (structured clone, JSON). */
export interface SerializedWvoError {
  readonly code: string;
  readonly message: string;
  readonly subject?: string;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  readonly status?: number;
  readonly exitCode?: 1 | 2;
}

/**
 * The WvoError a worker thread threw, rebuilt on this side: its catalogue's status and exit code
 * when the code is declared here, else what it carried.
 */
export function reviveError(error: SerializedWvoError): WvoError {
  const spec = REGISTRY.get(error.code);
  return new WvoError(error.code, error.message, {
    ...(error.subject === undefined ? {} : { subject: error.subject }),
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    ...(error.details === undefined ? {} : { details: error.details }),
    status: spec?.status ?? error.status ?? 500,
    exitCode: error.exitCode ?? spec?.exitCode ?? 1,
  });
}
