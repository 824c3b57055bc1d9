/**
 * Read-only queries for the dev page, through one long-lived
 * `tasker-devenv sql` child (a small pool that stays connected): requests
 * and answers are JSON lines, matched by id. The child exits when this
 * process does (its stdin closes).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

import { devenvBinary } from './paths';
import { stopChild, toolEnv, waitForOutput } from './processes';

type Row = Record<string, unknown>;

export class SqlClient {
  private readonly pending = new Map<number, { resolve: (rows: Row[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  /** Why the child is gone (queries then fail at once), once it is. */
  private ended: string | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const answer = JSON.parse(line) as { id: number; rows?: Row[]; error?: string };
      const waiting = this.pending.get(answer.id);
      if (!waiting) return;
      this.pending.delete(answer.id);
      if (answer.error !== undefined) waiting.reject(new Error(answer.error));
      else waiting.resolve(answer.rows ?? []);
    });
    child.once('exit', (code, signal) => {
      this.ended = `the query process (tasker-devenv sql) ended (${signal ?? `exit ${code}`})`;
      for (const waiting of this.pending.values()) waiting.reject(new Error(this.ended));
      this.pending.clear();
    });
    // A write to a dead child fails asynchronously: its queries are already rejected above.
    child.stdin.on('error', () => undefined);
  }

  static async start(databaseUrl: string): Promise<SqlClient> {
    const child = spawn(devenvBinary(), ['sql', '--database-url', databaseUrl], { stdio: ['pipe', 'pipe', 'pipe'], env: toolEnv() });
    child.stderr.resume();
    await waitForOutput(child, /SQL READY/, 30000, 'the query process');
    return new SqlClient(child);
  }

  /** The rows of a SELECT; parameters are text (cast them in the SQL: `$1::uuid`). */
  query(sql: string, params: (string | null)[] = []): Promise<Row[]> {
    if (this.ended) return Promise.reject(new Error(this.ended));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, sql, params })}\n`);
    });
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await stopChild(this.child, 'SIGTERM', 3000);
  }
}
