// The local tasker on RabbitMQ (lib/dev/rabbitmq.ts): startLocalTasker({
// messaging: 'rabbitmq' }) comes up (timed) with a private broker that
// answers AMQP; the orchestration publishes a task's first step into the
// broker queue `worker_<ns>_queue`; a broker restart keeps the port, the
// queue and its message, and the orchestration (which cannot reconnect) is
// restarted by its watchdog and takes results again (timed, with tasks being
// created all along); stop() leaves no process, and neither does a parent
// killed with SIGKILL. No worker runs here: templates are registered and the
// queue declared through tasker-devenv (tasker's own code), and queue
// contents read with rabbitmqctl.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';

import { amqpAnswers, devenvBinary, run, startLocalTasker } from '../../dist/dev/index.mjs';
import { prepareTemplates, uniqueNamespace } from '../../devenv/environment.mjs';
import { eventually, runtimeName, sleep } from '../helpers/environment.mjs';
import { scriptCommand } from '../helpers/runtime.mjs';

const PARENT = new URL('../helpers/rabbitmq-parent.mjs', import.meta.url).pathname;
const cleanups = [];

const alive = (pid) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited child not yet reaped by init is gone too.
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** What each process id is: { pid, comm, home } (home: an Erlang VM's -home, the broker's folder). */
function describePids(pids) {
  return pids.map((pid) => {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const home = args.includes('-home') ? args[args.indexOf('-home') + 1] : undefined;
    return { pid, comm, home };
  });
}

const portOf = (url) => Number(new URL(url.replace(/^(amqp|postgresql):/, 'http:')).port);

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Processes whose command line mentions `needle` (postgres -D <dataDir>/postgres). */
function survivors(needle) {
  try {
    return execFileSync('pgrep', ['-a', '-f', needle], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** What is left of a local tasker (its processes, ports, PostgreSQL, broker folder), or undefined. */
async function leftovers({ pids, dataDir, brokerDir, ports }) {
  const left = { running: pids.filter(alive), listening: [], postgres: survivors(dataDir), brokerDir: existsSync(brokerDir) ? brokerDir : '' };
  for (const port of ports) if (await accepts(port)) left.listening.push(port);
  return left.running.length || left.listening.length || left.postgres || left.brokerDir ? left : undefined;
}

/** Waits until nothing is left; fails saying what is. */
async function nothingLeft(what, timeoutMs) {
  let left;
  await eventually(async () => !(left = await leftovers(what)), { timeoutMs, intervalMs: 200, what: 'nothing left' }).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(left)}`);
  });
}

/** { name: { messages, consumers } } of the broker's queues. */
async function queues(env) {
  const out = await env.rabbitmqctl(['list_queues', '-q', 'name', 'messages', 'consumers']);
  const found = {};
  for (const line of out.split('\n')) {
    const [name, messages, consumers] = line.trim().split(/\s+/);
    if (name && /^\d+$/.test(messages ?? '')) found[name] = { messages: Number(messages), consumers: Number(consumers) };
  }
  return found;
}

describe(`local tasker on RabbitMQ (${runtimeName})`, { timeout: 180000 }, () => {
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('comes up on a private broker, publishes steps there, survives a broker restart, stops clean', async () => {
    const logs = [];
    const startedAt = Date.now();
    const env = await startLocalTasker({ messaging: 'rabbitmq', log: (message) => logs.push({ at: Date.now(), message }) });
    const logged = (pattern) => logs.find((l) => pattern.test(l.message));
    cleanups.push(() => env.stop());
    const upMs = Date.now() - startedAt;
    console.log(`local tasker on RabbitMQ (${runtimeName}): up in ${upMs} ms`);
    assert.ok(upMs <= 20000, `up in ${upMs} ms`);
    assert.equal(env.messaging, 'rabbitmq');
    assert.match(env.rabbitmqUrl, /^amqp:\/\/guest:guest@127\.0\.0\.1:\d+\/%2F$/);
    const amqpPort = portOf(env.rabbitmqUrl);
    assert.ok(await amqpAnswers(amqpPort), 'the broker answers AMQP');
    const processes = describePids(env.pids());
    const beam = processes.find((p) => p.comm.startsWith('beam'));
    assert.ok(beam?.home, `a broker VM among ${JSON.stringify(processes)}`);
    const brokerDir = beam.home;
    const orchestrationPid = processes.find((p) => p.comm.startsWith('tasker-devenv'))?.pid;
    assert.ok(orchestrationPid);

    // A template, and its namespace's queue declared as tasker declares it
    // (the orchestration never declares worker queues: a worker does).
    const templates = prepareTemplates(uniqueNamespace(`rabbitmq_${runtimeName}`), undefined, { only: ['single'] });
    cleanups.push(() => templates.remove());
    const ns = templates.namespace;
    const stepQueue = `worker_${ns}_queue`;
    await run(devenvBinary(), ['register-templates', '--database-url', env.databaseUrl, '--template-path', templates.path]);
    await run(devenvBinary(), ['declare-queue', '--rabbitmq-url', env.rabbitmqUrl, '--queue', stepQueue]);
    const declared = await env.rabbitmqctl(['list_queues', '-q', 'name', 'durable', 'arguments']);
    const row = declared.split('\n').find((line) => line.startsWith(`${stepQueue}\t`));
    assert.match(row ?? '', new RegExp(`\\ttrue\\t.*"x-dead-letter-exchange","${stepQueue}_dlx".*"x-dead-letter-routing-key","${stepQueue}"`), declared);
    assert.match(declared, new RegExp(`^${stepQueue}_dlq\\ttrue\\t\\[\\]$`, 'm'));

    const create = (i) => env.client.createTask({ name: 'single', namespace: ns, version: '1.0.0', context: { i, runtime: runtimeName }, initiator: 'test', sourceSystem: 'rabbitmq.test', reason: 'broker test' });
    await create(0);
    await eventually(async () => (await queues(env))[stepQueue]?.messages === 1, { timeoutMs: 15000, intervalMs: 200, what: `the first step in ${stepQueue}` });

    // Tasks keep being created through the outage (most fail while the
    // orchestration is down; a few get through just before it notices).
    const created = [];
    let flowing = true;
    const flow = (async () => {
      for (let i = 1; flowing; i++) {
        try {
          await create(i);
          created.push(Date.now());
        } catch {
          // the orchestration is down: try again
        }
        await sleep(250);
      }
    })();

    const stoppingAt = Date.now();
    await env.stopBroker();
    assert.equal(await amqpAnswers(amqpPort), false, 'the broker is down');
    const lost = await eventually(() => logged(/lost RabbitMQ \(exit 75\)/), { timeoutMs: 15000, intervalMs: 50, what: 'the orchestration to exit with 75' });
    const lostMs = lost.at - stoppingAt;
    await sleep(1000);
    const restartAt = Date.now();
    await env.startBroker();
    const backAt = Date.now();
    assert.ok(await amqpAnswers(amqpPort), 'the broker answers on the same port');
    // A result waits in the results queue from the moment the broker is
    // back (no step has it: the orchestration logs and drops it; here only
    // its consumption counts).
    await run(devenvBinary(), ['publish', '--rabbitmq-url', env.rabbitmqUrl, '--queue', 'orchestration_step_results', '--message', JSON.stringify({ task_uuid: randomUUID(), step_uuid: randomUUID(), correlation_id: randomUUID() })]);
    await eventually(async () => {
      const q = (await queues(env)).orchestration_step_results;
      return q?.consumers === 1 && q.messages === 0;
    }, { timeoutMs: 40000, intervalMs: 100, what: `the restarted orchestration to take results:\n${env.orchestrationLogs().slice(-3000)}` });
    const resultsMs = Date.now() - backAt;
    await eventually(() => created.some((at) => at > backAt), { timeoutMs: 20000, intervalMs: 100, what: 'a task created after the restart' });
    const tasksMs = created.find((at) => at > backAt) - backAt;
    flowing = false;
    await flow;
    const readyAgain = logged(/orchestration server back at/);
    assert.ok(readyAgain, logs.map((l) => l.message).join('\n'));
    console.log(
      `local tasker on RabbitMQ (${runtimeName}): orchestration exited with 75 ${lostMs} ms after stopBroker began; broker back in ${backAt - restartAt} ms; ` +
        `after the broker answered, the orchestration was ready again in ${readyAgain.at - backAt} ms, took a waiting result within ${resultsMs} ms ` +
        `(polled with rabbitmqctl) and created tasks again within ${tasksMs} ms`,
    );
    const newPid = describePids(env.pids()).find((p) => p.comm.startsWith('tasker-devenv'))?.pid;
    assert.ok(newPid && newPid !== orchestrationPid, 'a new orchestration process');
    assert.equal(alive(orchestrationPid), false);

    // The queue and its messages were kept; steps of tasks created since
    // arrive. Tasks created while the broker was down but the orchestration
    // not yet gone have no message (tasker marks the step enqueued first).
    const createdSince = created.filter((at) => at > backAt).length;
    const depth = await eventually(async () => {
      const n = (await queues(env))[stepQueue]?.messages ?? 0;
      return n >= 1 + createdSince ? n : 0;
    }, { timeoutMs: 15000, intervalMs: 200, what: 'the step messages of the tasks created after the restart' });
    console.log(`local tasker on RabbitMQ (${runtimeName}): ${created.length} tasks created during the outage test, ${createdSince} after the broker was back; ${depth - 1} new step messages (besides the kept one)`);

    const stopAt = Date.now();
    const ports = [amqpPort, portOf(env.orchestrationUrl), portOf(env.databaseUrl)];
    const pids = env.pids();
    await env.stop();
    console.log(`local tasker on RabbitMQ (${runtimeName}): stopped in ${Date.now() - stopAt} ms`);
    assert.equal(await leftovers({ pids, dataDir: env.dataDir, brokerDir, ports }), undefined, 'stop() leaves nothing');
  });

  test('a parent killed with SIGKILL leaves no broker, database or orchestration', async () => {
    const [command, args] = scriptCommand(PARENT);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    const info = await new Promise((resolve, reject) => {
      let seen = '';
      child.stdout.on('data', (d) => {
        seen += d;
        const line = seen.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`the parent exited (${code}) before it was up:\n${output}`)));
    });
    const processes = describePids(info.pids);
    const brokerDir = processes.find((p) => p.comm.startsWith('beam'))?.home;
    assert.ok(brokerDir && existsSync(brokerDir), JSON.stringify(processes));
    const ports = [portOf(info.rabbitmqUrl), portOf(info.orchestrationUrl), portOf(info.databaseUrl)];
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await nothingLeft({ pids: info.pids, dataDir: info.dataDir, brokerDir, ports }, 30000);
    console.log(`local tasker on RabbitMQ (${runtimeName}): everything gone ${Date.now() - killedAt} ms after SIGKILL of its parent`);
  });
});
