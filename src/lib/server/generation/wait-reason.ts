/**
 * Why no account could take a job right now, in words for its owner ("All 2 accounts for Pixverse
 * are busy"), and whether waiting can help at all: when every account that could run it has
 * already failed it, the job fails instead of waiting forever.
 */
import { and, eq, isNull, notInArray, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { providerAccounts, type Job } from '../db/schema';
import type { Provider } from '../providers/types';

/** busy: every account is at its slot limit, so a released slot wakes the job (job-state.ts). */
export type NoAccount = { wait: true; reason: string; busy: boolean } | { wait: false; reason: string };

export async function explainNoAccount(
	db: DbOrTx,
	job: Job,
	provider: Provider,
	cost: { creditType: string; amount: number } | null,
	failedAccountIds: string[]
): Promise<NoAccount> {
	const [counts] = await db
		.select({
			usable: sql<number>`count(*) filter (where ${providerAccounts.status} not in ('disabled', 'exhausted'))::int`,
			cooling: sql<number>`count(*) filter (where ${providerAccounts.status} = 'cooldown' and ${providerAccounts.cooldownUntil} > now())::int`,
			busy: sql<number>`count(*) filter (where ${providerAccounts.currentJobs} >= ${providerAccounts.maxConcurrentJobs})::int`,
			poor: cost
				? sql<number>`count(*) filter (where coalesce((${providerAccounts.credits} ->> ${cost.creditType})::numeric, 0) < ${cost.amount}::numeric)::int`
				: sql<number>`0`
		})
		.from(providerAccounts)
		.where(
			and(
				eq(providerAccounts.providerId, job.providerId),
				or(isNull(providerAccounts.ownerId), eq(providerAccounts.ownerId, job.ownerId)),
				failedAccountIds.length ? notInArray(providerAccounts.id, failedAccountIds) : undefined
			)
		);
	const label = provider.label;
	if (counts.usable === 0) {
		if (failedAccountIds.length > 0) {
			const n = failedAccountIds.length;
			return { wait: false, reason: `Every account for ${label} failed this job (${n} tried)` };
		}
		return { wait: true, busy: false, reason: `No active account for ${label}: add one or re-enable one` };
	}
	if (counts.cooling === counts.usable) return { wait: true, busy: false, reason: `All ${counts.usable} accounts for ${label} are cooling down` };
	if (cost && counts.poor >= counts.usable) {
		return { wait: true, busy: false, reason: `No account for ${label} has ${cost.amount} ${cost.creditType} credits left` };
	}
	const n = counts.usable;
	return { wait: true, busy: true, reason: n === 1 ? `The account for ${label} is busy` : `All ${n} accounts for ${label} are busy` };
}

/**
 * When a waiting job looks again. Busy accounts: after the longest wait, since the next released
 * slot wakes it sooner (a job polling for slots would cost queries for nothing; with hundreds
 * waiting, those futile looks took most of the database in npm run bench:jobs). Anything else
 * (disabled, cooling down, out of credits) changes without a wake: a stateless backoff of a
 * quarter of how long it has waited, within [0.5 s, max].
 */
export function waitDelayMs(job: Job, why: { busy: boolean }, maxMs: number): number {
	if (why.busy) return maxMs;
	const waited = Date.now() - (job.queuedAt ?? job.createdAt).getTime();
	return Math.round(Math.min(maxMs, Math.max(500, waited / 4)));
}
