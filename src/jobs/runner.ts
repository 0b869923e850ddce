import { Logger as WorkerLogger, run, runMigrations, type Runner, type TaskList } from 'graphile-worker';
import type { Logger } from '../logger.js';

/** graphile-worker's log lines, through ours (debug is dropped: it logs every poll). */
function workerLogger(log: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    const fields = { jobs: scope, ...meta };
    if (level === 'error') log.error(fields, message);
    else if (level === 'warning') log.warn(fields, message);
    else if (level === 'info') log.debug(fields, message);
  });
}

/**
 * The job queue's tables (graphile-worker's own schema, graphile_worker), installed with ours so that a
 * transaction can add a job (graphile_worker.add_job) from the moment the database is migrated.
 */
export function installJobQueue(databaseUrl: string, log?: Logger): Promise<void> {
  return runMigrations({ connectionString: databaseUrl, ...(log ? { logger: workerLogger(log) } : {}) });
}

/**
 * This instance's share of the background jobs: graphile-worker on PostgreSQL, so any instance takes any
 * job, each exactly once at a time, and a job added in a transaction exists only if it commits. Its
 * connections are its own (a few), apart from the request pool.
 */
export async function startJobs(databaseUrl: string, taskList: TaskList, log: Logger, { concurrency }: { concurrency: number }): Promise<Runner> {
  return run({
    connectionString: databaseUrl,
    maxPoolSize: concurrency + 2,
    concurrency,
    taskList,
    noHandleSignals: true,
    logger: workerLogger(log),
  });
}
