/**
 * generation.poll for a whole fetched batch: one read for every submission and its job, one for
 * their accounts, the status checks side by side, then a few statements per outcome for the whole
 * batch: the next polls of running tasks; for finished ones their results, slots, success counts
 * and downloads (generation.download, batch-complete.ts). Everything off that path (a deadline
 * passed, a failure, a result already known, a missing account) goes through pollSubmission
 * (poll.ts), one message at a time, which stays the reference for the rules.
 *
 * Crash safety: the slots go back first, in a statement of their own (jobs/slots.ts releaseSlots),
 * then a result url and the download's message commit together. A poll re-delivered in between
 * asks the provider again and records the result; its slot is not released or counted twice. A
 * poll re-delivered after finds the url and hands the result to generation.download (poll.ts).
 */
import { sql } from 'drizzle-orm';
import type { Job, ProviderSubmission } from '../db/schema';
import { releaseSlots, wakeWaiting } from '../jobs/slots';
import { findProvider } from '../providers/registry';
import { ProviderError, type AccountContext, type Provider, type TaskStatus } from '../providers/types';
import { enqueueMany } from '../queue/boss';
import type { HandlerContext, QueueMessage } from '../worker/handlers';
import { loadSubmissions, runBatch, settle, type LoadedSubmission, type Results } from './batch';
import { asProviderError, handleAttemptFailure } from './failures';
import { reportProgress } from './job-state';
import { pollSubmission } from './poll';

type Message = QueueMessage<'generation.poll'>;

/** A finished task, from a poll or a download message (both name a submission). */
export interface FinishedTask<M = Message> extends Watched<M> {
	url: string;
	raw: unknown;
}

export interface Watched<M = Message> {
	message: M;
	submission: ProviderSubmission & { providerTaskId: string; accountId: string };
	job: Job;
	provider: Provider;
	account: { context: AccountContext; label: string };
}

export async function pollSubmissions(ctx: HandlerContext, messages: Message[]): Promise<Results> {
	const loaded = await loadSubmissions(
		ctx,
		messages.map((m) => m.payload.submission_id)
	);
	return runBatch(ctx, messages, {
		subject: (message) => message.payload.submission_id,
		candidate: (message) => fastCandidate(message, loaded.get(message.payload.submission_id)),
		batch: (watched, results) => pollFast(ctx, watched, results),
		one: (messageCtx, message) => pollSubmission(messageCtx, message.payload.submission_id)
	});
}

/** The batchable case: a running task with no result yet, its job processing, before its deadline. */
function fastCandidate(message: Message, loaded: LoadedSubmission | undefined): Watched | null {
	if (!loaded?.account) return null;
	const { submission, job, account } = loaded;
	if (submission.status !== 'submitted' || !submission.providerTaskId || submission.resultUrl || !submission.accountId) return null;
	if (job.status !== 'processing') return null;
	if (submission.deadlineAt && submission.deadlineAt.getTime() < Date.now()) return null;
	const provider = findProvider(submission.providerId);
	if (!provider) return null;
	return { message, submission: submission as Watched['submission'], job, provider, account };
}

async function pollFast(ctx: HandlerContext, watched: Watched[], results: Results): Promise<void> {
	if (watched.length === 0) return;
	const { db, boss } = ctx;
	const checked = await Promise.all(
		watched.map(async (w) => {
			try {
				return { w, status: await w.provider.checkStatus(w.account.context, w.submission.providerTaskId) };
			} catch (err) {
				return { w, error: asProviderError(w.provider, err) };
			}
		})
	);

	const again: { w: Watched; delayMs: number; status?: TaskStatus }[] = [];
	const finished: FinishedTask[] = [];
	const failed: Promise<void>[] = [];
	for (const c of checked) {
		const { w } = c;
		const log = ctx.log.child({ job_id: w.job.id, submission_id: w.submission.id, account_id: w.submission.accountId, user_id: w.job.ownerId });
		if (c.error) {
			// A status check that failed says nothing about the task: ask again later (the deadline bounds it).
			if (c.error.cls === 'transient') {
				log.warn({ err_message: c.error.message }, 'provider:status-unavailable');
				again.push({ w, delayMs: w.provider.pollIntervalMs * 2 });
				results.set(w.message.id, { submission_id: w.submission.id, outcome: 'status-unavailable' });
			} else failed.push(fail(ctx, w, c.error, results));
			continue;
		}
		const status = c.status;
		log.info({ state: status.state, progress: status.progress }, 'provider:status');
		if (status.state === 'pending' || status.state === 'running') {
			again.push({ w, delayMs: w.provider.pollIntervalMs, status });
			results.set(w.message.id, { submission_id: w.submission.id, outcome: status.state });
		} else if (status.state === 'succeeded' && status.resultUrls?.[0]) {
			finished.push({ ...w, url: status.resultUrls[0], raw: status.raw });
		} else {
			const error =
				status.state === 'succeeded'
					? new ProviderError('transient', 'The provider reported success without a result.', { response: status.raw })
					: status.state === 'failed'
						? (status.error ?? new ProviderError('transient', 'The provider reported a failure.', { response: status.raw }))
						: // Not by us (the job is still processing): e.g. the provider released a stuck task. Try again.
							new ProviderError('transient', 'The provider cancelled the task.', { response: status.raw });
			failed.push(fail(ctx, w, error, results));
		}
	}

	if (again.length > 0) {
		await db.transaction(async (tx) => {
			for (const a of again) {
				if (a.status?.progress !== undefined) await reportProgress(tx, a.w.job.id, a.status.progress);
			}
			await enqueueMany(
				boss,
				'generation.poll',
				again.map((a) => ({
					payload: { submission_id: a.w.submission.id },
					singletonKey: a.w.submission.id,
					startAfter: new Date(Date.now() + a.delayMs)
				})),
				{ tx }
			);
		});
	}
	await Promise.all([...failed, finish(ctx, finished, results)]);
}

function fail(ctx: HandlerContext, w: Watched, error: ProviderError, results: Results): Promise<void> {
	return settle(
		results,
		w.message.id,
		handleAttemptFailure(ctx, {
			job: w.job,
			provider: w.provider,
			accountId: w.account.context.id,
			accountLabel: w.account.label,
			submission: w.submission,
			stage: 'poll',
			error,
			inputAssetIds: w.provider.inputAssets(w.job.operationType, w.job.params).map((i) => i.assetId)
		})
	);
}

/**
 * Tasks the provider finished: their slots back at once (the provider's work is done: the next
 * waiting jobs may start) with the accounts' success counts, then in one transaction their result
 * urls, their downloads queued and the waiting jobs woken. The downloads run in generation.download's own lanes: done here, a
 * batch's downloads and completion held its poll lane for seconds, while the polls of other
 * tasks (each holding a slot until it is seen done) waited for a lane (bench:jobs).
 */
async function finish(ctx: HandlerContext, finished: FinishedTask[], results: Results): Promise<void> {
	if (finished.length === 0) return;
	const { db, boss } = ctx;
	const values = finished.map((f) => ({ id: f.submission.id, url: f.url, response: f.raw ?? null }));
	const now = Date.now();
	// The slots first, in a statement of their own (jobs/slots.ts releaseSlots says why). A crash
	// before the transaction below leaves the poll to be retried: it asks the provider again, finds
	// the result, and records it; the slots are not released or counted twice.
	const freed = await releaseSlots(
		db,
		finished.map((f) => ({ jobId: f.job.id, generationSeconds: f.submission.submittedAt ? (now - f.submission.submittedAt.getTime()) / 1000 : 0 })),
		{ asyncCommit: true }
	);
	await db.transaction(async (tx) => {
		// Committed without waiting for its WAL flush (synchronous_commit off for this transaction
		// alone): a crash can lose only this transaction, whole, and the poll is retried as above.
		await tx.execute(sql`
			update provider_submissions s set result_url = v.url, response = coalesce(v.response, s.response)
			from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(id uuid, url text, response jsonb),
				(select set_config('synchronous_commit', 'off', true)) as cfg
			where s.id = v.id and s.status = 'submitted' and s.result_url is null`);
		await enqueueMany(
			boss,
			'generation.download',
			finished.map((f) => ({ payload: { submission_id: f.submission.id }, singletonKey: f.submission.id })),
			{ tx }
		);
		await wakeWaiting(
			tx,
			boss,
			freed,
			finished.map((f) => f.job.id)
		);
	});
	for (const f of finished) {
		ctx.log.info(
			{ job_id: f.job.id, submission_id: f.submission.id, account_id: f.submission.accountId, user_id: f.job.ownerId, provider_task_id: f.submission.providerTaskId },
			'provider:complete'
		);
		results.set(f.message.id, { submission_id: f.submission.id, outcome: 'succeeded', download: 'queued' });
	}
}
