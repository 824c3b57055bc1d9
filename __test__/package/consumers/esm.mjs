// Node.js ESM consumer: `import` the installed package.
import * as pkg from '@tasker-systems/worker';
import common from './consumer.cjs';

await common.run(pkg, 'node', 'node-esm');
