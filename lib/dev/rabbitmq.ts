/**
 * A private RabbitMQ broker for the local tasker: the machine's own
 * `rabbitmq-server` (Debian: apt-get install rabbitmq-server) as a node of
 * its own (name, Erlang cookie, data folder, epmd) on free loopback ports,
 * never the system's service. stopBroker()/startBroker() restart it on the
 * same port and data (durable queues and persistent messages survive);
 * stop() removes everything; if this process is killed, a detached sentinel
 * stops the broker and its epmd and removes the folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { MissingPieceError } from './paths';
import { freePort, guardAgainstAbandonment, isRoot, removeDir, run, stopChild, UNPRIVILEGED, type Abandonment } from './processes';

export interface RabbitmqOptions {
  /** A fixed AMQP port; default a free one. */
  port?: number;
  log?: (message: string) => void;
  /** What the sentinel also cleans if this process is killed. */
  onAbandon?: Abandonment;
  /** How long the broker may take to answer AMQP (default 60 s). */
  readyTimeoutMs?: number;
}

export interface Rabbitmq {
  /** amqp://guest:guest@127.0.0.1:<port>/%2F (guest may only log in over loopback). */
  url: string;
  port: number;
  /** The Erlang node name (rabbitmqctl -n). */
  nodeName: string;
  /** Its folder: data (mnesia), logs, cookie. Removed by stop(). */
  dir: string;
  /** Stops the broker and its epmd; startBroker brings them back on the same ports and data: outage tests. */
  stopBroker(): Promise<void>;
  startBroker(): Promise<void>;
  /** Runs `rabbitmqctl -n <node> ...args` against this broker; resolves to its output. */
  ctl(args: string[]): Promise<string>;
  /** The broker's (beam) and epmd's process ids while it runs. */
  pids(): number[];
  /** Its recent console output and log. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * The folder of `rabbitmq-server` and `rabbitmqctl`: TASKER_RABBITMQ_BIN,
 * Debian's /usr/lib/rabbitmq/bin, else the PATH. Debian's /usr/sbin scripts
 * are not used: as root they `su` to the rabbitmq user, which resets HOME
 * (our Erlang cookie) and the environment that makes the node private.
 */
export function rabbitmqBin(): string {
  const has = (dir: string) => existsSync(join(dir, 'rabbitmq-server')) && existsSync(join(dir, 'rabbitmqctl'));
  const fromEnv = process.env.TASKER_RABBITMQ_BIN;
  if (fromEnv) {
    if (!has(fromEnv)) throw new MissingPieceError(`TASKER_RABBITMQ_BIN=${fromEnv} has no rabbitmq-server and rabbitmqctl`);
    return fromEnv;
  }
  const isSuWrapper = (dir: string) => {
    try {
      return /Only root or rabbitmq should run/.test(readFileSync(join(dir, 'rabbitmq-server'), 'utf8'));
    } catch {
      return true;
    }
  };
  const found = ['/usr/lib/rabbitmq/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)].find((dir) => has(dir) && !isSuWrapper(dir));
  if (found) return found;
  throw new MissingPieceError(
    'RabbitMQ is not installed: apt-get install rabbitmq-server (Debian, Ubuntu), brew install rabbitmq (macOS), ' +
      'or set TASKER_RABBITMQ_BIN to the folder holding rabbitmq-server and rabbitmqctl; or give the URL of a broker you run',
  );
}

/** The user the broker runs as: us, or as root the package's `rabbitmq` user (else nobody). */
function brokerUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'rabbitmq'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return UNPRIVILEGED;
  }
}

function as(user: { uid: number; gid: number } | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!user) return [cmd, args];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', cmd, ...args]];
}

/** Our environment without RabbitMQ's and Erlang's own variables: the broker's settings are only ours. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(RABBITMQ_|ERL_|ERLANG_)/.test(key)) env[key] = value;
  }
  return env;
}

/**
 * Whether an AMQP 0-9-1 server answers on `port`: its Connection.Start
 * (frame type 1, channel 0, class 10, method 10) in reply to the protocol
 * header. RabbitMQ opens this listener last, once the node has booted.
 */
export function amqpAnswers(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (received.length >= 11) done(received[0] === 1 && received.readUInt16BE(1) === 0 && received.readUInt16BE(7) === 10 && received.readUInt16BE(9) === 10);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const alive = (pid: number | undefined): boolean => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to `timeoutMs`) until something accepts TCP connections on 127.0.0.1:`port`. */
async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  while (!(await accepts()) && Date.now() < deadline) await sleep(20);
}

export async function startRabbitmq(options: RabbitmqOptions = {}): Promise<Rabbitmq> {
  const { log = () => {}, onAbandon = {}, readyTimeoutMs = 60000 } = options;
  const bin = rabbitmqBin();
  const user = brokerUser();
  const dir = mkdtempSync(join(tmpdir(), 'tasker-rabbitmq-'));
  const nodeName = `tasker-${randomBytes(4).toString('hex')}@localhost`;
  const [port, distPort, epmdPort] = [options.port ?? (await freePort()), await freePort(), await freePort()];
  const file = (name: string) => join(dir, name);
  // Pid files the sentinel reads when this process is gone: whichever
  // processes run then (none while the broker is stopped).
  const pidFiles = { epmd: file('epmd.pid'), server: file('server.pid'), beam: file('rabbit.pid') };

  // The node's Erlang cookie is read from $HOME, which is this folder for
  // the server and for rabbitmqctl alike; Erlang wants it private.
  writeFileSync(file('.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
  // Files of its own, so that nothing of the machine's /etc/rabbitmq (env
  // file, config, plugins: maybe a service's listeners) applies to it.
  writeFileSync(file('rabbitmq-env.conf'), '');
  writeFileSync(file('enabled_plugins'), '[].\n');
  writeFileSync(file('rabbitmq.conf'), '# The local tasker\'s private broker: guest/guest over loopback only (RabbitMQ\'s default).\nloopback_users.guest = true\n');
  if (user) {
    for (const name of ['', '.erlang.cookie', 'rabbitmq-env.conf', 'enabled_plugins', 'rabbitmq.conf']) chownSync(file(name), user.uid, user.gid);
  }

  const erlEnv = {
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
  const serverEnv: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    ...erlEnv,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: file('mnesia'),
    RABBITMQ_LOG_BASE: file('log'),
    RABBITMQ_CONF_ENV_FILE: file('rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: file('rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: file('advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: file('enabled_plugins'),
    RABBITMQ_PID_FILE: pidFiles.beam,
    // Distribution on loopback too (RABBITMQ_NODE_IP_ADDRESS is AMQP's
    // only), and never a detached epmd of the VM's own: ours runs in front.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false',
  };

  let recent = '';
  const remember = (d: Buffer) => (recent = (recent + d).slice(-20000));
  let server: ChildProcess | undefined;
  let epmd: ChildProcess | undefined;

  const running = (child: ChildProcess | undefined) => !!child && child.exitCode === null && child.signalCode === null;
  const startBroker = async () => {
    if (running(server)) return;
    // What is left of a broker that stopped by itself (its epmd) goes first.
    if (server || epmd) await stopBroker();
    const at = Date.now();
    const [epmdCmd, epmdArgs] = as(user, 'epmd', ['-port', String(epmdPort), '-address', '127.0.0.1']);
    epmd = spawn(epmdCmd, epmdArgs, { cwd: dir, env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    epmd.stdout?.on('data', remember);
    epmd.stderr?.on('data', remember);
    writeFileSync(pidFiles.epmd, String(epmd.pid ?? ''));
    await listening(epmdPort, 5000);
    // The script stays in front of the VM and turns SIGTERM into an orderly stop.
    const [cmd, args] = as(user, join(bin, 'rabbitmq-server'), []);
    const child = spawn(cmd, args, { cwd: dir, env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);
    writeFileSync(pidFiles.server, String(child.pid ?? ''));
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    const deadline = Date.now() + readyTimeoutMs;
    while (!(await amqpAnswers(port))) {
      if (exited !== undefined || Date.now() > deadline) {
        const why = exited !== undefined ? `exited (code ${exited})` : `did not answer AMQP within ${readyTimeoutMs / 1000} s`;
        await stopBroker();
        if (/eaddrinuse|address already in use/i.test(recent + logTail())) throw new Error(`RabbitMQ ${why}: port ${port} (or its distribution port) is taken`);
        throw new Error(`RabbitMQ ${why}:\n${(recent + logTail()).slice(-4000)}`);
      }
      await sleep(100);
    }
    log(`RabbitMQ (node ${nodeName}) answering at 127.0.0.1:${port} after ${Date.now() - at} ms`);
  };

  const stopBroker = async () => {
    const beam = readPid(pidFiles.beam);
    if (server) await stopChild(server, 'SIGTERM', 20000);
    // The script was killed after the grace time: its VM must not outlive it.
    if (alive(beam)) process.kill(beam!, 'SIGKILL');
    if (epmd) await stopChild(epmd, 'SIGTERM', 5000);
    server = undefined;
    epmd = undefined;
    for (const pidFile of Object.values(pidFiles)) rmSync(pidFile, { force: true });
  };

  function logTail(): string {
    try {
      return `\n${readFileSync(join(file('log'), `${nodeName}.log`), 'utf8').slice(-4000)}`;
    } catch {
      return '';
    }
  }

  const dismissSentinel = guardAgainstAbandonment({
    kill: [
      ...(onAbandon.kill ?? []),
      { pidFile: pidFiles.server, signal: 'SIGTERM' },
      { pidFile: pidFiles.beam, signal: 'SIGTERM' },
      { pidFile: pidFiles.epmd, signal: 'SIGTERM' },
    ],
    remove: [...(onAbandon.remove ?? []), dir],
  });
  const stop = async () => {
    await stopBroker();
    dismissSentinel();
    removeDir(dir);
  };

  try {
    await startBroker();
  } catch (e) {
    dismissSentinel();
    removeDir(dir);
    throw e;
  }

  const ctl = async (args: string[]) => {
    // The CLI is a (hidden) Erlang node too: on loopback, on a port of its own.
    const cliPort = String(await freePort());
    return run(join(bin, 'rabbitmqctl'), ['-n', nodeName, ...args], {
      cwd: dir,
      env: {
        ...cleanEnv(),
        ...erlEnv,
        RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
        RABBITMQ_CTL_DIST_PORT_MIN: cliPort,
        RABBITMQ_CTL_DIST_PORT_MAX: cliPort,
      },
    });
  };

  return {
    url: `amqp://guest:guest@127.0.0.1:${port}/%2F`,
    port,
    nodeName,
    dir,
    stopBroker,
    startBroker,
    ctl,
    pids: () => [readPid(pidFiles.beam), epmd?.pid].filter((pid): pid is number => !!pid && alive(pid)),
    logs: () => recent + logTail(),
    stop,
  };
}
