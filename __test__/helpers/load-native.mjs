// Loads the package's addon and prints the outcome as one JSON line: the
// native loader test runs it under Deno with too few permissions.
import { pkg } from './package.mjs';

try {
  pkg.loadNative();
  process.stdout.write(`${JSON.stringify({ loaded: true })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ loaded: false, name: error.name, message: error.message })}\n`);
}
