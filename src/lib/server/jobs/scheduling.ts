/**
 * A pending job becomes queued when nothing holds it back any more: its scheduled time has come
 * and its parent (if any) has completed. The submit message of a scheduled job arrives at that
 * time (startAfter); the worker calls this before handling it.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { jobs, type Job } from '../db/schema';
import { publishEvent } from '../events/publish';
import { jobJson } from './json';

/** The job, now queued (job.queued published), or null when it is not pending or not due yet. */
export async function queueDueJob(db: Db, jobId: string): Promise<Job | null> {
	return db.transaction(async (tx) => {
		const [job] = await tx
			.update(jobs)
			.set({ status: 'queued', queuedAt: sql`now()`, updatedAt: sql`now()` })
			.where(
				and(
					eq(jobs.id, jobId),
					eq(jobs.status, 'pending'),
					sql`(${jobs.scheduledAt} is null or ${jobs.scheduledAt} <= now())`,
					sql`(${jobs.parentJobId} is null or exists (select 1 from jobs p where p.id = ${jobs.parentJobId} and p.status = 'completed'))`
				)
			)
			.returning();
		if (!job) return null;
		await publishEvent(tx, { ownerId: job.ownerId, type: 'job.queued', jobId: job.id, data: jobJson(job) });
		return job;
	});
}
