// Node.js CommonJS consumer: `require` the installed package.
const pkg = require('@tasker-systems/worker');
const { run } = require('./consumer.cjs');

run(pkg, 'node', 'node-cjs').catch((error) => {
  console.error(error);
  process.exit(1);
});
