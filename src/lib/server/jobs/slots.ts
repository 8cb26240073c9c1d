/**
 * Giving back a job's account slot, the one way every exit takes (the user's cancel, the worker's
 * failure, re-queue, completion and provider cancel): the slot is freed and handed on to the job
 * that has waited longest for one. It lives here, beside the submit queue, because both the user's
 * side (jobs/service.ts) and the worker's (generation/) release slots, and generation/ already
 * depends on jobs/, never the other way round.
 */
import { sql, eq } from 'drizzle-orm';
import { refundCredits, releaseSlot } from '../accounts/pool';
import type { DbOrTx } from '../db/client';
import { jobs } from '../db/schema';
import type { PgBoss } from '../queue/boss';
import { wakeWaitingSubmit } from './queueing';

/** Frees the job's slot, and hands it on to the job that has waited longest for one. */
export async function releaseAndWake(tx: DbOrTx, boss: PgBoss, jobId: string, accountId?: string | null): Promise<void> {
	if (!(await releaseSlot(tx, jobId))) return;
	const account = accountId === undefined ? (await tx.select({ a: jobs.accountId }).from(jobs).where(eq(jobs.id, jobId)))[0]?.a : accountId;
	await wakeNextWaiting(tx, boss, account ?? null, jobId);
}

/**
 * Gives back a reservation the provider never took: the slot (waking the next waiting job) and the
 * credits charged for it. Safe to call twice or from two racing paths: each half happens once.
 */
export async function returnReservation(tx: DbOrTx, boss: PgBoss, jobId: string): Promise<void> {
	await releaseAndWake(tx, boss, jobId);
	await refundCredits(tx, jobId);
}

/**
 * Wakes the queued job that has waited longest (by priority) among those the freed account could
 * run. Without this, a job that found every slot taken would sleep out its backoff (up to
 * GENERATION_WAIT_MAX_MS) while the slot sat idle. SKIP LOCKED: concurrent releases wake
 * different jobs. A woken job that loses the slot to a fresher one just waits again.
 */
async function wakeNextWaiting(tx: DbOrTx, boss: PgBoss, accountId: string | null, releasedJobId: string): Promise<void> {
	if (!accountId) return;
	// The woken job goes to the back (updated_at), so the next release wakes another one.
	const [next] = await tx.execute<{ id: string }>(sql`
		with next as (
			select j.id from jobs j, provider_accounts a
			where a.id = ${accountId}::uuid and j.status = 'queued' and j.provider_id = a.provider_id
			  and not j.holds_slot and j.wait_reason is not null and j.id <> ${releasedJobId}::uuid
			  and (a.owner_id is null or j.owner_id = a.owner_id)
			order by j.priority, j.updated_at
			limit 1
			for update of j skip locked
		)
		update jobs set updated_at = now() from next where jobs.id = next.id returning jobs.id`);
	if (next) await wakeWaitingSubmit(boss, next.id, { tx });
}
