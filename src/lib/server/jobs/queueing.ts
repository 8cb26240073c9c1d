/**
 * Putting a job on the submit queue. Our priority runs 0 (first) to 10 (last); pg-boss runs higher
 * numbers first, so it gets 10 - priority. A job scheduled for later starts after its time.
 */
import type { Job } from '../db/schema';
import type { DbOrTx } from '../db/client';
import { enqueue, wakeKeyedMany, type PgBoss } from '../queue/boss';

export function bossPriority(priority: number): number {
	return 10 - priority;
}

/**
 * Sends generation.submit for the job. `startAfter`: a Date, or a number of SECONDS from now (pg-boss's
 * meaning of a number), e.g. a backoff when the pipeline re-queues a job that found no account.
 */
export async function enqueueSubmit(
	boss: PgBoss,
	job: Pick<Job, 'id' | 'priority' | 'scheduledAt'>,
	{ tx, startAfter }: { tx?: DbOrTx; startAfter?: Date | number } = {}
): Promise<void> {
	// A scheduled time still ahead wins unless the caller (a re-queue with backoff) says otherwise.
	const after = startAfter ?? (job.scheduledAt && job.scheduledAt.getTime() > Date.now() ? job.scheduledAt : undefined);
	await enqueue(
		boss,
		'generation.submit',
		{ job_id: job.id },
		{
			tx,
			priority: bossPriority(job.priority),
			...(after === undefined ? {} : { startAfter: after })
		}
	);
}

/**
 * Slots came free: the waiting jobs' messages (each sent under its job id by requeueSubmit in
 * generation/queue.ts) are due now instead of after their backoff. One statement for all of them.
 */
export async function wakeWaitingSubmits(boss: PgBoss, jobIds: string[], { tx }: { tx: DbOrTx }): Promise<number> {
	return wakeKeyedMany(boss, 'generation.submit', jobIds, { tx });
}
