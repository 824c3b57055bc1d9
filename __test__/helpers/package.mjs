// The package's built JS layer (dist/), loaded like a user would.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const pkg = require('../../dist/index.js');
