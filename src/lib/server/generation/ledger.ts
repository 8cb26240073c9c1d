/**
 * The submission ledger (provider_submissions): one row per attempt to hand a job to a provider.
 * The row is written before the provider is called and its task id right after it answers, so a
 * restarted worker knows which attempts reached the provider.
 */
import { and, desc, eq, gte, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import { uniqueViolation } from '../db/errors';
import { jobs, providerSubmissions, type ErrorClass, type Job, type ProviderSubmission } from '../db/schema';

export async function loadSubmission(db: DbOrTx, id: string): Promise<ProviderSubmission | undefined> {
	const [row] = await db.select().from(providerSubmissions).where(eq(providerSubmissions.id, id));
	return row;
}

export async function latestSubmission(db: DbOrTx, jobId: string): Promise<ProviderSubmission | undefined> {
	const [row] = await db
		.select()
		.from(providerSubmissions)
		.where(eq(providerSubmissions.jobId, jobId))
		.orderBy(desc(providerSubmissions.retryAttempt))
		.limit(1);
	return row;
}

/**
 * The attempts of the job's current run (since it was last queued by its owner: a user's retry
 * starts afresh): accounts that failed it with an account-class error, how many transient
 * failures it has had, and whether a stale upload id was already retried.
 */
export async function attemptHistory(db: DbOrTx, job: Job): Promise<{ failedAccountIds: string[]; transientFailures: number; staleUploadRetried: boolean }> {
	const rows = await db
		.select({ accountId: providerSubmissions.accountId, errorClass: providerSubmissions.errorClass })
		.from(providerSubmissions)
		.where(and(eq(providerSubmissions.jobId, job.id), job.queuedAt ? gte(providerSubmissions.createdAt, job.queuedAt) : undefined));
	return {
		failedAccountIds: [...new Set(rows.filter((r) => r.errorClass === 'account' && r.accountId).map((r) => r.accountId as string))],
		transientFailures: rows.filter((r) => r.errorClass === 'transient' || r.errorClass === 'timeout').length,
		// Any other request-class failure ends the run, so one in the history is a stale-upload retry.
		staleUploadRetried: rows.some((r) => r.errorClass === 'request')
	};
}

/**
 * A new attempt in `submitting`, written only while the job is still queued (under its row lock,
 * so a cancel either comes first and nothing is submitted, or waits and finds the attempt).
 * 'not-queued' when the job ended meanwhile (cancelled); 'taken' when another run is already further.
 */
export async function startSubmission(
	db: Db,
	values: { jobId: string; providerId: string; accountId: string; payload: Record<string, unknown>; previous: ProviderSubmission | undefined }
): Promise<ProviderSubmission | 'not-queued' | 'taken'> {
	try {
		return await db.transaction(async (tx) => {
			const [job] = await tx.select({ status: jobs.status }).from(jobs).where(eq(jobs.id, values.jobId)).for('update');
			if (job?.status !== 'queued') return job?.status === 'processing' ? ('taken' as const) : ('not-queued' as const);
			const [row] = await tx
				.insert(providerSubmissions)
				.values({
					jobId: values.jobId,
					providerId: values.providerId,
					accountId: values.accountId,
					payload: values.payload,
					retryAttempt: (values.previous?.retryAttempt ?? -1) + 1,
					previousSubmissionId: values.previous?.id ?? null,
					status: 'submitting',
					submittedAt: sql`now()`
				})
				.returning();
			return row;
		});
	} catch (err) {
		if (uniqueViolation(err) === 'provider_submissions_job_attempt_key') return 'taken';
		throw err;
	}
}

/** An attempt that failed before a submission row could describe it (e.g. an input upload), recorded as one. */
export async function recordFailedAttempt(
	db: DbOrTx,
	values: { jobId: string; providerId: string; accountId: string | null; previous: ProviderSubmission | undefined; errorClass: ErrorClass; message: string; response?: unknown }
): Promise<void> {
	await db
		.insert(providerSubmissions)
		.values({
			jobId: values.jobId,
			providerId: values.providerId,
			accountId: values.accountId,
			payload: {},
			response: values.response ?? null,
			retryAttempt: (values.previous?.retryAttempt ?? -1) + 1,
			previousSubmissionId: values.previous?.id ?? null,
			status: 'failed',
			errorClass: values.errorClass,
			errorMessage: values.message,
			respondedAt: sql`now()`
		})
		.onConflictDoNothing();
}

/** Ends an attempt that has not ended yet; false when it already had (another run got there first). */
export async function failSubmission(
	db: DbOrTx,
	id: string,
	failure: { errorClass: ErrorClass; message: string; response?: unknown; status?: 'failed' | 'cancelled' }
): Promise<boolean> {
	const rows = await db
		.update(providerSubmissions)
		.set({
			status: failure.status ?? 'failed',
			errorClass: failure.errorClass,
			errorMessage: failure.message,
			...(failure.response === undefined ? {} : { response: failure.response })
		})
		.where(and(eq(providerSubmissions.id, id), sql`${providerSubmissions.status} in ('submitting', 'submitted')`))
		.returning({ id: providerSubmissions.id });
	return rows.length > 0;
}
