/** Base of every error that comes from the native bridge. */
export class FfiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The native module could not be loaded. */
export class FfiLibraryError extends FfiError {
  constructor(
    message: string,
    /** Every location tried, with why it failed. */
    readonly attempts: readonly string[],
    /** The platform triple the loader looked for, e.g. linux-x64-gnu. */
    readonly platform: string,
  ) {
    super(message);
  }
}

/** A native call failed; `code` is the addon's stable error code. */
export class FfiCallError extends FfiError {
  constructor(
    readonly call: string,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${call}: ${message}`, options);
  }
}

/** Wraps an addon error into an FfiCallError (keeping the original as cause). */
export function toCallError(call: string, error: unknown): FfiCallError {
  if (error instanceof FfiCallError) return error;
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  return new FfiCallError(call, code, message, { cause: error });
}
