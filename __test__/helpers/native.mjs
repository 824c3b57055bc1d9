// The built addon, loaded the way users load it (the generated loader).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const native = require('../../index.cjs');

/** Asserts that `fn` throws (or rejects) with the given code; returns the error. */
export async function expectCode(fn, code, messagePattern) {
  let error;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (!error) throw new Error(`expected an error with code ${code}, but the call succeeded`);
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${String(error)}`);
  if (error.code !== code) throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`);
  if (messagePattern && !messagePattern.test(error.message)) {
    throw new Error(`message ${JSON.stringify(error.message)} does not match ${messagePattern}`);
  }
  return error;
}
