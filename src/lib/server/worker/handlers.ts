/**
 * The worker's handler table: one entry per job in queue/jobs.ts. The mapped type makes a
 * missing handler a compile error; startWorker also checks at run time.
 */
import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Logger } from '../logger';
import type { PgBoss } from '../queue/boss';
import type { JobName, JobPayload } from '../queue/jobs';
import type { Storage } from '../storage/local';
import type { MediaHelper } from '../media/helper-client';
import { purgeExpiredTrash } from '../assets/service';
import { purgeExpiredSessions } from '../auth/sessions';
import { cancelSubmission, downloadResult, downloadResults, pollSubmission, pollSubmissions, submitJob, submitJobs, sweepGeneration } from '../generation/handlers';
import { ingestAsset } from '../ingest/service';
import { rolloverDailyUsage } from '../users/quotas';
import { sweepExpiredTusUploads } from '../uploads/tus';
import { deliverWebhook } from '../webhooks/deliver';
import { dispatchWebhookEvents } from '../webhooks/dispatch';

export interface HandlerContext {
	db: Db;
	config: Config;
	log: Logger;
	storage: Storage;
	/** For handlers that send follow-up jobs (the generation stages chain submit → poll → download). */
	boss: PgBoss;
	/** This run of the job: pg-boss retries it until retryCount reaches its retryLimit. */
	attempt: { retryCount: number; final: boolean };
	/** Media derivation for ingest, in the worker's low-priority helper process (media/helper-client.ts). */
	derive?: MediaHelper['derive'];
}

export type Handler<N extends JobName> = (payload: JobPayload<N>, ctx: HandlerContext) => Promise<Record<string, unknown> | void>;

export type Outcome = Record<string, unknown>;

/** One fetched message of a batch: its queue id, payload and attempt. */
export interface QueueMessage<N extends JobName> {
	id: string;
	payload: JobPayload<N>;
	attempt: HandlerContext['attempt'];
}

/**
 * A handler for a whole fetched batch, answering each message's outcome by its queue id (an Error
 * fails that message alone). ctx.attempt is meaningless here: each message carries its own.
 */
export type BatchHandler<N extends JobName> = (messages: QueueMessage<N>[], ctx: HandlerContext) => Promise<Map<string, Outcome | Error>>;

export const handlers: { [N in JobName]: Handler<N> } = {
	'sessions.purge': async (_payload, { db }) => ({ purged: await purgeExpiredSessions(db) }),
	'usage.rollover': async (_payload, { db, config }) => rolloverDailyUsage(db, config.USAGE_RETENTION_DAYS),
	'assets.ingest': async ({ asset_id }, ctx) => ingestAsset(ctx, asset_id),
	'assets.reprocess': async ({ asset_id }, ctx) => ingestAsset(ctx, asset_id, { reprocess: true }),
	// The purge itself (files, storage counter) is the asset service's; the worker only schedules it.
	'assets.purge-trash': async (_payload, { db, storage, config }) => purgeExpiredTrash(db, storage, config.TRASH_DAYS),
	'uploads.expire-tus': async (_payload, { storage }) => ({ removed: await sweepExpiredTusUploads(storage) }),
	'generation.submit': async ({ job_id }, ctx) => submitJob(ctx, job_id),
	'generation.poll': async ({ submission_id }, ctx) => pollSubmission(ctx, submission_id),
	'generation.download': async ({ submission_id }, ctx) => downloadResult(ctx, submission_id),
	'generation.cancel': async ({ submission_id }, ctx) => cancelSubmission(ctx, submission_id),
	'generation.sweep': async (_payload, ctx) => sweepGeneration(ctx),
	'webhooks.dispatch': async (_payload, ctx) => ({ ...(await dispatchWebhookEvents(ctx)) }),
	'webhooks.deliver': async (payload, ctx) => deliverWebhook(ctx, payload)
};

/**
 * Queues handled a batch at a time, in place of their entry above (which stays: it handles one
 * message, and the batch handlers use it for everything off their fast path). The generation
 * stages move a batch of jobs with a few statements for all of them (generation/batch-*.ts).
 */
export const batchHandlers: { [N in JobName]?: BatchHandler<N> } = {
	'generation.submit': (messages, ctx) => submitJobs(ctx, messages),
	'generation.poll': (messages, ctx) => pollSubmissions(ctx, messages),
	'generation.download': (messages, ctx) => downloadResults(ctx, messages)
};
