// A worker told to use RabbitMQ fails its start with BROKER_UNAVAILABLE, well
// within 10 s and without the URL's password, when nothing listens at the
// broker's address, when the broker refuses the login, and when a server
// accepts the connection but never speaks AMQP. A malformed URL is a
// configuration error. PostgreSQL is up in every case (the broker is
// checked first, and the error must name the broker, not the database).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { startEnvironment } from '../../devenv/environment.mjs';
import { freePort } from '../../devenv/processes.mjs';
import { runtimeName } from '../helpers/environment.mjs';
import { native } from '../helpers/native.mjs';

const SECRET = 's3cret-Pw-never-shown';
const templatePath = new URL('../../devenv/templates', import.meta.url).pathname;
let own;
let env;

/** Starts a worker; resolves to its error and how long the start took. */
async function failedStart(rabbitmqUrl) {
  const started = Date.now();
  try {
    await native.bootstrapWorkerAsync({ databaseUrl: env.databaseUrl, messagingBackend: 'rabbitmq', rabbitmqUrl, templatePath, logLevel: 'off' });
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  await native.stopWorker();
  throw new Error(`the worker started with ${rabbitmqUrl}`);
}

function assertBrokerUnavailable({ error, ms }, pattern) {
  assert.equal(error.code, 'BROKER_UNAVAILABLE', `${error.code}: ${error.message}`);
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes(SECRET), `the password is shown: ${error.message}`);
  assert.ok(ms < 10_000, `took ${ms} ms`);
  assert.equal(native.isWorkerRunning(), false);
}

describe(`start failures on RabbitMQ (${runtimeName})`, { timeout: 120_000 }, () => {
  before(async () => {
    const { RABBITMQ_URL, TASKER_TEST_DATABASE_URL } = process.env;
    env = RABBITMQ_URL && TASKER_TEST_DATABASE_URL ? { databaseUrl: TASKER_TEST_DATABASE_URL, rabbitmqUrl: RABBITMQ_URL } : (own = await startEnvironment({ messaging: 'rabbitmq' }));
  });

  after(async () => {
    await own?.stop();
  });

  test('nothing listening at the address', async () => {
    const port = await freePort();
    assertBrokerUnavailable(await failedStart(`amqp://guest:${SECRET}@127.0.0.1:${port}/%2F`), /127\.0\.0\.1:\d+.*is RabbitMQ running there/);
  });

  test('the broker refuses the login', async () => {
    const url = new URL(env.rabbitmqUrl);
    url.password = SECRET;
    assertBrokerUnavailable(await failedStart(url.href), /are its user and password right/);
  });

  test('a server that accepts and never answers', { timeout: 30_000 }, async () => {
    const sockets = new Set();
    const server = createServer((socket) => sockets.add(socket));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const failure = await failedStart(`amqp://guest:${SECRET}@127.0.0.1:${server.address().port}/%2F`);
      assertBrokerUnavailable(failure, /did not answer within/);
      console.log(`broker that never answers (${runtimeName}): the start failed after ${failure.ms} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a URL that is not amqp:// is a configuration error that names the option', async () => {
    const { error } = await failedStart(`rabbit://guest:${SECRET}@127.0.0.1:5672/%2F`);
    assert.equal(error.code, 'INVALID_ARGUMENT', `${error.code}: ${error.message}`);
    assert.match(error.message, /^rabbitmqUrl/);
    assert.ok(!error.message.includes(SECRET), error.message);
  });
});
