// The TypeScript worker of the end-to-end benchmarks: trivial handlers, push
// delivery, `concurrency` handlers at once. `bench.retry` fails retryably
// while its attempt number is below the task's `failures`, asking for the
// task's `backoffSeconds` (the retry benchmark). Prints READY once it claims steps
// and stops (gracefully) when its standard input closes.
import { pkg } from '../lib/package.mjs';
import { params, runCase } from '../lib/child.mjs';

runCase(async () => {
  const { databaseUrl, messaging, rabbitmqUrl, templatePath, namespace, concurrency } = params();
  const worker = new pkg.Worker({
    config: { databaseUrl, messagingBackend: messaging, rabbitmqUrl, templatePath, namespace, environment: 'test' },
    concurrency,
  });
  worker.register('bench.step', (ctx) => ({ ok: true, step: ctx.stepName }));
  worker.register('bench.retry', (ctx) => {
    const { failures = 0, backoffSeconds = 1 } = ctx.taskContext;
    if (ctx.retryCount < failures) throw new pkg.RetryableError('bench: failing on purpose', { backoffSeconds });
    return { ok: true, attempt: ctx.retryCount + 1 };
  });
  await worker.start();
  process.stdout.write('READY\n');
  await new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
  await worker.stop();
  await pkg.getTaskerRuntime().close();
});
