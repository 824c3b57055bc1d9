// A process that starts a local tasker on RabbitMQ and then only waits: the
// RabbitMQ test kills it with SIGKILL and checks that nothing it started is
// left. Prints one JSON line once up: what runs and where.
import { startLocalTasker } from '../../dist/dev/index.mjs';

const local = await startLocalTasker({ messaging: 'rabbitmq' });
console.log(JSON.stringify({ pids: local.pids(), dataDir: local.dataDir, databaseUrl: local.databaseUrl, orchestrationUrl: local.orchestrationUrl, rabbitmqUrl: local.rabbitmqUrl }));
setInterval(() => {}, 60000);
