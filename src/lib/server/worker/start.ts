/** Starts pg-boss in worker mode, registers every handler and schedule, and stops it cleanly. */
import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Logger } from '../logger';
import type { Storage } from '../storage/local';
import { createBoss, ensureQueues, logQueueErrors } from '../queue/boss';
import { jobDefinitions, jobNames, type JobName, type JobPayload } from '../queue/jobs';
import { startWebhookWake } from '../webhooks/wake';
import { startMediaHelper } from '../media/helper-client';
import { batchHandlers, handlers, type BatchHandler, type Handler, type HandlerContext, type Outcome } from './handlers';

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

	const media = startMediaHelper();
	const ctx: Omit<HandlerContext, 'log' | 'attempt'> = { db, config, storage, boss, derive: media.derive };
	for (const name of jobNames) {
		const def = jobDefinitions[name];
		const batch = batchHandlers[name] as BatchHandler<JobName> | undefined;
		if (batch) {
			// The whole fetched batch in one call, each message settled on its own (perJobResults):
			// a message whose outcome is an Error fails (and is retried) alone.
			await boss.work(name, { ...def.work, perJobResults: true }, async (jobs) => {
				const started = Date.now();
				const batchLog = log.child({ queue: name });
				const messages = jobs.map((job) => ({
					id: job.id,
					payload: def.payload.parse(job.data) as JobPayload<JobName>,
					attempt: { retryCount: job.retryCount, final: job.retryCount >= def.retryLimit }
				}));
				let outcomes: Map<string, Outcome | Error>;
				try {
					outcomes = await batch(messages, { ...ctx, log: batchLog, attempt: { retryCount: 0, final: false } });
				} catch (err) {
					batchLog.error({ err, batch_size: jobs.length, duration_ms: Date.now() - started }, 'queue:failed');
					throw err;
				}
				const duration = Date.now() - started;
				return jobs.map((job) => {
					const outcome = outcomes.get(job.id) ?? new Error('the batch handler gave this message no outcome');
					if (outcome instanceof Error) {
						batchLog.error({ queue_job_id: job.id, err: outcome, duration_ms: duration }, 'queue:failed');
						return { id: job.id, status: 'failed' as const, output: { message: outcome.message } };
					}
					batchLog.info({ queue_job_id: job.id, duration_ms: duration, batch_size: jobs.length, ...outcome }, 'queue:done');
					return { id: job.id, status: 'completed' as const, output: outcome };
				});
			});
			continue;
		}
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
			media.stop();
		}
	};
}
