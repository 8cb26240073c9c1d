/**
 * generation.sweep (every minute): crash repair that needs no memory of what happened.
 * - Slots: recountSlots frees holds of ended jobs and recounts every account's current_jobs.
 * - Lost queue messages: a queued job untouched for STALE_MS gets generation.submit again, a
 *   processing job's running task gets its poll (or download) again. The stages are idempotent
 *   and poll/download are singletons per submission, so a re-send of a message that was not
 *   lost costs one extra look, never a second task or asset.
 * - Events older than EVENT_RETENTION_DAYS are pruned.
 */
import { and, eq, isNotNull, lt, sql } from 'drizzle-orm';
import { recountSlots } from '../accounts/pool';
import { jobs, providerSubmissions } from '../db/schema';
import { pruneEvents } from '../events/prune';
import { enqueueSubmit } from '../jobs/queueing';
import type { HandlerContext } from '../worker/handlers';
import { enqueueDownload, enqueuePoll } from './queue';

const STALE_MS = 2 * 60_000;
const BATCH = 500;
const EVENT_RETENTION_DAYS = 7;

export async function sweepGeneration(ctx: HandlerContext): Promise<Record<string, unknown>> {
	const { db, boss } = ctx;
	const { released } = await recountSlots(db);
	const staleBefore = sql`now() - make_interval(secs => ${STALE_MS / 1000}::int)`;

	const queued = await db
		.select()
		.from(jobs)
		.where(and(eq(jobs.status, 'queued'), lt(jobs.updatedAt, staleBefore)))
		.orderBy(jobs.updatedAt)
		.limit(BATCH);
	for (const job of queued) {
		await db.transaction(async (tx) => {
			await tx.update(jobs).set({ updatedAt: sql`now()` }).where(and(eq(jobs.id, job.id), eq(jobs.status, 'queued')));
			await enqueueSubmit(boss, job, { tx, startAfter: 0 });
		});
	}

	const running = await db
		.select({ id: providerSubmissions.id, resultUrl: providerSubmissions.resultUrl })
		.from(providerSubmissions)
		.innerJoin(jobs, eq(jobs.id, providerSubmissions.jobId))
		.where(
			and(
				eq(jobs.status, 'processing'),
				eq(providerSubmissions.status, 'submitted'),
				isNotNull(providerSubmissions.providerTaskId),
				lt(providerSubmissions.createdAt, staleBefore)
			)
		)
		.limit(BATCH);
	for (const submission of running) {
		if (submission.resultUrl) await enqueueDownload(boss, submission.id);
		else await enqueuePoll(boss, submission.id);
	}

	const pruned = await pruneEvents(db, new Date(Date.now() - EVENT_RETENTION_DAYS * 86_400_000));
	if (released || queued.length) ctx.log.warn({ released, requeued: queued.length }, 'pipeline:sweep-repaired');
	return { released, requeued: queued.length, repolled: running.length, events_pruned: pruned };
}
