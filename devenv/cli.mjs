#!/usr/bin/env node
// node devenv/cli.mjs up [--json FILE] [--log-level warn] [--messaging pgmq|rabbitmq]
//   Starts the environment (with rabbitmq: tasker's queues on a private
//   RabbitMQ broker), prints its URLs (and writes them to FILE as JSON), and
//   keeps it up until Ctrl-C or SIGTERM, then tears everything down.
import { writeFileSync } from 'node:fs';

import { startEnvironment } from './environment.mjs';

const [command, ...rest] = process.argv.slice(2);
if (command !== 'up') {
  console.error('usage: node devenv/cli.mjs up [--json FILE] [--log-level warn] [--messaging pgmq|rabbitmq]');
  process.exit(2);
}
const option = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const messaging = option('--messaging') ?? 'pgmq';
if (messaging !== 'pgmq' && messaging !== 'rabbitmq') {
  console.error(`--messaging must be pgmq or rabbitmq, got '${messaging}'`);
  process.exit(2);
}

const log = (m) => console.error(`[env] ${m}`);
const env = await startEnvironment({ log, logLevel: option('--log-level') ?? 'warn', messaging });
const info = { databaseUrl: env.databaseUrl, orchestrationUrl: env.orchestrationUrl, messaging: env.messaging, rabbitmqUrl: env.rabbitmqUrl, pid: process.pid };
const file = option('--json');
if (file) writeFileSync(file, JSON.stringify(info));
console.log(JSON.stringify(info));
log('environment is up; Ctrl-C to stop');
// startEnvironment stops everything on SIGINT/SIGTERM. Also stop when the
// process that started us is gone (a test script killed with SIGKILL).
const parent = process.ppid;
const watch = setInterval(() => {
  let alive = true;
  try {
    process.kill(parent, 0);
  } catch {
    alive = false;
  }
  if (!alive || process.ppid !== parent) {
    clearInterval(watch);
    log('the parent process is gone; stopping');
    env.stop().finally(() => process.exit(0));
  }
}, 1000);
