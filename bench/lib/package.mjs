// The package under test, loaded as a user would (the built dist/), and its
// native binding (the addon TASKER_FFI_MODULE_PATH names: the runner points
// it at the release build).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const pkg = require('../../dist/index.js');
export const native = pkg.loadNative();
