/**
 * What the generation stages' batch handlers (batch-submit.ts, batch-poll.ts, batch-complete.ts)
 * share: splitting a fetched batch between the batch path and the stage's one-message handler,
 * sending the batch path's leftovers the one-message way, and the read poll and download start from.
 */
import { eq } from 'drizzle-orm';
import { credentialsKey, decryptCredentials } from '../accounts/crypto';
import { anyId } from '../db/prepared';
import { jobs, providerAccounts, providerSubmissions, type Job, type ProviderSubmission } from '../db/schema';
import type { AccountContext } from '../providers/types';
import type { HandlerContext, Outcome } from '../worker/handlers';

/** Each message's outcome by its queue id; an Error fails (and retries) that message alone. */
export type Results = Map<string, Outcome | Error>;

interface Message {
	id: string;
	attempt: HandlerContext['attempt'];
}

export interface BatchStage<M extends Message, C extends { message: M }> {
	/** What the message is about (a job, a submission): two messages of one subject never run side by side. */
	subject(message: M): string;
	/** The message on the batch path, or null for the one-message handler. */
	candidate(message: M): C | null;
	/** Moves the candidates together, answering in `results`; what it cannot finish goes to `leftover`. */
	batch(candidates: C[], results: Results, leftover: M[]): Promise<void>;
	/** The stage's one-message handler, with the message's own log and attempt. */
	one(ctx: HandlerContext, message: M): Promise<Outcome>;
}

export async function runBatch<M extends Message, C extends { message: M }>(ctx: HandlerContext, messages: M[], stage: BatchStage<M, C>): Promise<Results> {
	const results: Results = new Map();
	const candidates: C[] = [];
	const single: M[] = [];
	const later: M[] = [];
	const taken = new Set<string>();
	for (const message of messages) {
		const subject = stage.subject(message);
		// The same subject twice in one batch: after its first message is done.
		if (taken.has(subject)) later.push(message);
		else {
			const candidate = stage.candidate(message);
			if (candidate) {
				taken.add(subject);
				candidates.push(candidate);
			} else single.push(message);
		}
	}
	const leftover: M[] = [];
	const batchRun = candidates.length
		? stage.batch(candidates, results, leftover).catch((err: unknown) => {
				// A statement of the batch failed (a deadlock the database broke, a lost connection):
				// each message not yet answered goes the one-message way, which finishes from the rows.
				ctx.log.warn({ err, batch_size: candidates.length }, 'pipeline:batch-fallback');
				for (const c of candidates) if (!results.has(c.message.id) && !leftover.includes(c.message)) leftover.push(c.message);
			})
		: Promise.resolve();
	const one = (message: M) =>
		settle(results, message.id, stage.one({ ...ctx, log: ctx.log.child({ queue_job_id: message.id }), attempt: message.attempt }, message));
	await Promise.all([batchRun, ...single.map(one)]);
	for (const message of [...leftover, ...later]) await one(message);
	return results;
}

/** Records a message's outcome, or the error it ended with. */
export async function settle(results: Results, messageId: string, outcome: Promise<Outcome>): Promise<void> {
	try {
		results.set(messageId, await outcome);
	} catch (err) {
		results.set(messageId, err instanceof Error ? err : new Error(String(err)));
	}
}

export interface LoadedSubmission {
	submission: ProviderSubmission;
	job: Job;
	/** Decrypted; absent when the account is gone or its credentials cannot be read. */
	account?: { context: AccountContext; label: string };
}

/** Submissions with their jobs (one read) and their accounts (one more), by submission id. */
export async function loadSubmissions(ctx: HandlerContext, ids: string[]): Promise<Map<string, LoadedSubmission>> {
	const rows = await ctx.db
		.select({ submission: providerSubmissions, job: jobs })
		.from(providerSubmissions)
		.innerJoin(jobs, eq(jobs.id, providerSubmissions.jobId))
		.where(anyId(providerSubmissions.id, [...new Set(ids)]));
	const accountIds = [...new Set(rows.map((r) => r.submission.accountId).filter((id): id is string => id !== null))];
	const accounts = new Map<string, LoadedSubmission['account']>();
	if (accountIds.length) {
		const key = credentialsKey(ctx.config);
		const found = await ctx.db
			.select({ id: providerAccounts.id, label: providerAccounts.label, blob: providerAccounts.credentialsEncrypted })
			.from(providerAccounts)
			.where(anyId(providerAccounts.id, accountIds));
		for (const row of found) {
			// Undecryptable credentials: the one-message handler reports it for that message alone.
			try {
				accounts.set(row.id, { context: { id: row.id, credentials: decryptCredentials(key, row.blob) }, label: row.label });
			} catch {
				continue;
			}
		}
	}
	return new Map(rows.map((r) => [r.submission.id, { ...r, account: r.submission.accountId ? accounts.get(r.submission.accountId) : undefined }]));
}
