/**
 * A worker program: the handler modules of ./handlers are found by callable
 * (module `orders`, export `validate` → `orders.validate`), the templates
 * are checked against them at start, and SIGTERM/SIGINT drain it.
 * `npx tasker-worker --handlers ./handlers --templates ./templates` does the
 * same without this file.
 */
import { Worker, type HandlerResolver } from '@tasker-systems/worker';
import { fileURLToPath } from 'node:url';

export interface GuideWorkerOptions {
  databaseUrl: string;
  templatePath: string;
  namespace: string;
  resolvers?: HandlerResolver[];
  handleSignals?: boolean;
}

export function createWorker(options: GuideWorkerOptions): Worker {
  const worker = new Worker({
    config: {
      databaseUrl: options.databaseUrl,
      templatePath: options.templatePath,
      namespace: options.namespace,
      logLevel: 'warn',
    },
    handlers: fileURLToPath(new URL('./handlers', import.meta.url)),
    resolvers: options.resolvers,
    concurrency: 8,
    handleSignals: options.handleSignals ?? false,
  });
  worker.events.on('handler.error', ({ callable, error }) => console.error(`[${callable}] ${error.message}`));
  return worker;
}
