/** Starts pg-boss in worker mode, registers every handler and schedule, and stops it cleanly. */
import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Logger } from '../logger';
import type { Storage } from '../storage/local';
import { createBoss, ensureQueues, logQueueErrors } from '../queue/boss';
import { jobDefinitions, jobNames, type JobName } from '../queue/jobs';
import { startWebhookWake } from '../webhooks/wake';
import { handlers, type Handler, type HandlerContext } from './handlers';

export interface RunningWorker {
	stop(): Promise<void>;
}

export async function startWorker(url: string, db: Db, config: Config, log: Logger, storage: Storage): Promise<RunningWorker> {
	const missing = jobNames.filter((name) => typeof handlers[name] !== 'function');
	if (missing.length) throw new Error(`No handler registered for: ${missing.join(', ')}`);

	const boss = createBoss(url, config.PGBOSS_SCHEMA, 'worker');
	logQueueErrors(boss, log);
	await boss.start();
	await ensureQueues(boss);

	const ctx: Omit<HandlerContext, 'log' | 'attempt'> = { db, config, storage, boss };
	for (const name of jobNames) {
		const def = jobDefinitions[name];
		const handler = handlers[name] as Handler<JobName>;
		await boss.work(name, def.work, async (jobs) => {
			for (const job of jobs) {
				const started = Date.now();
				const jobLog = log.child({ queue: name, queue_job_id: job.id });
				try {
					const attempt = { retryCount: job.retryCount, final: job.retryCount >= def.retryLimit };
					const result = await handler(def.payload.parse(job.data) as never, { ...ctx, log: jobLog, attempt });
					jobLog.info({ duration_ms: Date.now() - started, ...(result ?? {}) }, 'queue:done');
				} catch (err) {
					jobLog.error({ err, duration_ms: Date.now() - started }, 'queue:failed');
					throw err;
				}
			}
		});
		if ('cron' in def && def.cron) await boss.schedule(name, def.cron, {}, { tz: 'UTC' });
	}
	// After the handlers: a wake-up sends webhooks.dispatch, which must have its worker.
	const webhookWake = await startWebhookWake(url, db, boss, log);
	log.info({ handlers: jobNames }, 'worker:ready');

	return {
		async stop() {
			await webhookWake.stop();
			await boss.stop({ graceful: true, timeout: config.WORKER_SHUTDOWN_SECONDS * 1000 });
		}
	};
}
