// Idle cost: CPU time of a process whose worker is bootstrapped on the real
// environment and has nothing to do, push delivery versus the 10 ms poller.
import { pkg } from '../lib/package.mjs';
import { idleWindow, params, report, runCase, sleep } from '../lib/child.mjs';

runCase(async () => {
  // The package and its addon are loaded (bench/lib/package.mjs); no worker yet.
  const loadedRssBytes = process.memoryUsage().rss;
  const { delivery, databaseUrl, templatePath, namespace, seconds = 30 } = params();
  const worker = new pkg.Worker({
    config: { databaseUrl, templatePath, namespace, environment: 'test' },
    delivery,
  });
  worker.register('bench.step', () => ({ ok: true }));
  await worker.start();
  await sleep(2000); // let bootstrap work settle
  const idle = await idleWindow(seconds);
  await worker.stop();
  await pkg.getTaskerRuntime().close();
  report({ delivery, ...idle, loadedRssBytes });
});
