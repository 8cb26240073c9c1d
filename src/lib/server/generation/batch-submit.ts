/**
 * generation.submit for a whole fetched batch. The common case, a queued job's first attempt with
 * no inputs to upload, moves with a few statements for the entire batch: one read, the pool's
 * batched reservation, one transaction writing every attempt's ledger row, the provider calls side
 * by side, and one transaction recording every task id with the jobs' start, their events and their
 * first polls. At 100 jobs a second a statement per job per step was most of the machine
 * (npm run bench:jobs). Everything else (a retry, inputs to upload, a scheduled or resumed job,
 * a job already holding a slot) goes through submitJob (submit.ts), one message at a time, which
 * stays the reference for the rules; this file only batches them.
 *
 * Crash safety is submit.ts's: the ledger rows are durable before any provider call, and the task
 * ids commit in the same transaction that queues their polls. A batch interrupted anywhere is
 * re-delivered message by message and submitJob finishes it from what the rows say.
 */
import { and, eq, sql } from 'drizzle-orm';
import { reserveAccount, type ReservedAccount } from '../accounts/pool';
import { uniqueViolation } from '../db/errors';
import { anyId } from '../db/prepared';
import { jobs, providerSubmissions, type Job, type ProviderSubmission } from '../db/schema';
import { publishEvents } from '../events/publish';
import { jobJson } from '../jobs/json';
import { returnReservation } from '../jobs/slots';
import { findProvider } from '../providers/registry';
import { ProviderError, type OperationSpec, type Provider } from '../providers/types';
import { enqueueMany } from '../queue/boss';
import type { HandlerContext, QueueMessage } from '../worker/handlers';
import { runBatch, settle, type Results } from './batch';
import { asProviderError, handleAttemptFailure } from './failures';
import { failJob, lockJobStatuses } from './job-state';
import { enqueueProviderCancel } from './queue';
import { bossPriority } from '../jobs/queueing';
import { submitJob } from './submit';
import { explainNoAccount, waitDelayMs } from './wait-reason';

type Message = QueueMessage<'generation.submit'>;

interface Candidate {
	message: Message;
	job: Job;
	provider: Provider;
	params: Record<string, unknown>;
	cost: ReturnType<OperationSpec['estimateCost']>;
}

export async function submitJobs(ctx: HandlerContext, messages: Message[]): Promise<Results> {
	const rows = await ctx.db
		.select({ job: jobs, tried: sql<boolean>`exists (select 1 from provider_submissions s where s.job_id = ${jobs.id})` })
		.from(jobs)
		.where(
			anyId(jobs.id, messages.map((m) => m.payload.job_id))
		);
	const byId = new Map(rows.map((r) => [r.job.id, r]));
	return runBatch(ctx, messages, {
		subject: (message) => message.payload.job_id,
		candidate: (message) => {
			const row = byId.get(message.payload.job_id);
			const candidate = row ? fastCandidate(row.job, row.tried) : null;
			return candidate ? { message, ...candidate } : null;
		},
		batch: (candidates, results, leftover) => submitFast(ctx, candidates, results, leftover),
		one: (messageCtx, message) => submitJob(messageCtx, message.payload.job_id)
	});
}

/** The batchable case: queued, never attempted, no slot held, valid params, no inputs to upload. */
function fastCandidate(job: Job, tried: boolean): Omit<Candidate, 'message'> | null {
	if (job.status !== 'queued' || job.holdsSlot || tried) return null;
	const provider = findProvider(job.providerId);
	const spec = provider?.operations[job.operationType];
	if (!provider || !spec) return null;
	const parsed = spec.params.safeParse(job.params);
	if (!parsed.success) return null;
	const params = parsed.data as Record<string, unknown>;
	if (provider.inputAssets(job.operationType, params).length > 0) return null;
	return { job, provider, params, cost: spec.estimateCost(params) };
}

async function submitFast(ctx: HandlerContext, candidates: Candidate[], results: Results, leftover: Message[]): Promise<void> {
	if (candidates.length === 0) return;
	const { db, config } = ctx;
	for (const c of candidates) {
		ctx.log.info({ job_id: c.job.id, user_id: c.job.ownerId, provider_id: c.provider.id, operation_type: c.job.operationType }, 'pipeline:start');
	}
	// Concurrent calls share the pool's batched reservation statement (accounts/coalescer.ts).
	const reserved = await Promise.all(
		candidates.map((c) =>
			reserveAccount(db, config, c.job, c.cost).then(
				(account) => ({ c, account }),
				(err: unknown) => ({ c, account: undefined, err })
			)
		)
	);
	const withAccount: { c: Candidate; account: ReservedAccount; mapped: Record<string, unknown> }[] = [];
	const waiting: Candidate[] = [];
	const failures: Promise<void>[] = [];
	for (const r of reserved) {
		if (r.account === undefined) leftover.push(r.c.message);
		else if (r.account === null) waiting.push(r.c);
		else {
			const account = r.account;
			try {
				withAccount.push({ c: r.c, account, mapped: r.c.provider.mapParameters(r.c.job.operationType, r.c.params, {}) });
			} catch (err) {
				const error = new ProviderError('request', err instanceof Error ? err.message : String(err));
				failures.push(settle(results, r.c.message.id, handleAttemptFailure(ctx, attemptFailure(r.c, account, 'upload', error))));
			}
		}
	}
	await Promise.all([waitForAccounts(ctx, waiting, results), ...failures, submitReserved(ctx, withAccount, results, leftover)]);
}

function attemptFailure(c: Candidate, account: ReservedAccount, stage: 'upload' | 'submit', error: ProviderError, submission?: ProviderSubmission) {
	return { job: c.job, provider: c.provider, accountId: account.context.id, accountLabel: account.account.label, submission, stage, error, inputAssetIds: [] };
}

/**
 * Ledger rows for every reserved job still queued (one transaction, the jobs locked in id order),
 * the provider calls side by side, then one transaction for every answer.
 */
async function submitReserved(
	ctx: HandlerContext,
	reserved: { c: Candidate; account: ReservedAccount; mapped: Record<string, unknown> }[],
	results: Results,
	leftover: Message[]
): Promise<void> {
	if (reserved.length === 0) return;
	const { db, boss } = ctx;
	let written: { rows: ProviderSubmission[]; gone: Candidate[] };
	try {
		written = await db.transaction(async (tx) => {
			const status = await lockJobStatuses(
				tx,
				reserved.map((r) => r.c.job.id)
			);
			const queued = reserved.filter((r) => status.get(r.c.job.id) === 'queued');
			const rows = queued.length
				? await tx
						.insert(providerSubmissions)
						.values(
							queued.map((r) => ({
								jobId: r.c.job.id,
								providerId: r.c.provider.id,
								accountId: r.account.context.id,
								payload: r.mapped,
								retryAttempt: 0,
								status: 'submitting' as const,
								submittedAt: sql`now()`
							}))
						)
						.returning()
				: [];
			// Cancelled while the pool reserved for it (a job already processing is another run's).
			const gone = reserved.filter((r) => status.get(r.c.job.id) !== 'queued' && status.get(r.c.job.id) !== 'processing').map((r) => r.c);
			return { rows, gone };
		});
	} catch (err) {
		// Another run wrote an attempt meanwhile: each job finds its own way (it holds its slot).
		if (uniqueViolation(err) !== 'provider_submissions_job_attempt_key') throw err;
		leftover.push(...reserved.map((r) => r.c.message));
		return;
	}
	for (const c of written.gone) {
		await db.transaction((tx) => returnReservation(tx, boss, c.job.id));
		results.set(c.message.id, { job_id: c.job.id, outcome: 'skipped', reason: 'left the queue' });
	}
	const byJob = new Map(reserved.map((r) => [r.c.job.id, r]));
	for (const r of reserved) {
		if (!written.rows.some((s) => s.jobId === r.c.job.id) && !written.gone.includes(r.c)) {
			results.set(r.c.message.id, { job_id: r.c.job.id, outcome: 'skipped', reason: 'another run is submitting this attempt' });
		}
	}

	const answers = await Promise.all(
		written.rows.map(async (submission) => {
			const r = byJob.get(submission.jobId)!;
			const started = Date.now();
			try {
				const answer = await r.c.provider.submit(r.account.context, r.c.job.operationType, r.mapped);
				return { r, submission, answer, durationMs: Date.now() - started };
			} catch (err) {
				const error = asProviderError(r.c.provider, err);
				await settle(results, r.c.message.id, handleAttemptFailure(ctx, attemptFailure(r.c, r.account, 'submit', error, submission)));
				return null;
			}
		})
	);
	const accepted = answers.filter((a) => a !== null);
	if (accepted.length === 0) return;

	const recorded = await db.transaction(async (tx) => {
		const values = accepted.map((a) => ({
			id: a.submission.id,
			task_id: a.answer.taskId,
			response: a.answer.response ?? null,
			duration_ms: a.durationMs,
			deadline_s: a.r.c.provider.deadlineMs / 1000
		}));
		const updated = await tx.execute<{ id: string }>(sql`
			update provider_submissions s set provider_task_id = v.task_id, response = v.response, status = 'submitted',
				responded_at = now(), duration_ms = v.duration_ms, deadline_at = now() + make_interval(secs => v.deadline_s)
			from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(id uuid, task_id text, response jsonb, duration_ms int, deadline_s float8)
			where s.id = v.id and s.status = 'submitting'
			returning s.id`);
		const recordedIds = new Set(updated.map((u) => u.id));
		const mine = accepted.filter((a) => recordedIds.has(a.submission.id));
		const started = mine.length
			? await tx
					.update(jobs)
					.set({ status: 'processing', startedAt: sql`now()`, waitReason: null, progress: 0, updatedAt: sql`now()` })
					.where(
						and(
							anyId(jobs.id, mine.map((a) => a.submission.jobId)),
							eq(jobs.status, 'queued')
						)
					)
					.returning()
			: [];
		await publishEvents(
			tx,
			started.map((job) => ({ ownerId: job.ownerId, type: 'job.started' as const, jobId: job.id, data: jobJson(job) }))
		);
		const startedIds = new Set(started.map((j) => j.id));
		const polling = mine.filter((a) => startedIds.has(a.submission.jobId));
		await enqueueMany(
			boss,
			'generation.poll',
			polling.map((a) => ({
				payload: { submission_id: a.submission.id },
				singletonKey: a.submission.id,
				startAfter: new Date(Date.now() + a.r.c.provider.pollIntervalMs)
			})),
			{ tx }
		);
		// Cancelled while the provider was answering: the task must not run on for nothing.
		const cancelled = mine.filter((a) => !startedIds.has(a.submission.jobId));
		for (const a of cancelled) await enqueueProviderCancel(boss, a.submission.id, { tx });
		return { recordedIds, startedIds };
	});

	for (const a of accepted) {
		const outcome = !recorded.recordedIds.has(a.submission.id) ? 'orphan' : recorded.startedIds.has(a.submission.jobId) ? 'submitted' : 'cancelled';
		// Another run closed this attempt as interrupted meanwhile: the task is an orphan; stop it.
		if (outcome === 'orphan' && a.r.c.provider.cancel) await a.r.c.provider.cancel(a.r.account.context, a.answer.taskId).catch(() => {});
		ctx.log.info(
			{
				job_id: a.submission.jobId,
				user_id: a.r.c.job.ownerId,
				submission_id: a.submission.id,
				account_id: a.r.account.context.id,
				provider_task_id: a.answer.taskId,
				duration_ms: a.durationMs,
				outcome
			},
			'provider:submit'
		);
		results.set(a.r.c.message.id, { job_id: a.submission.jobId, submission_id: a.submission.id, outcome });
	}
}

/**
 * No account free for these jobs: each waits in the queue with the reason its owner sees, and is
 * sent again after its backoff (or woken by a released slot). One reason per kind of job, one
 * statement for all their rows.
 */
async function waitForAccounts(ctx: HandlerContext, candidates: Candidate[], results: Results): Promise<void> {
	const { db, boss, config } = ctx;
	const groups = new Map<string, Candidate[]>();
	for (const c of candidates) {
		const key = JSON.stringify([c.job.providerId, c.job.ownerId, c.cost]);
		groups.set(key, [...(groups.get(key) ?? []), c]);
	}
	for (const group of groups.values()) {
		const { provider, job, cost } = group[0];
		const why = await explainNoAccount(db, job, provider, cost, []);
		if (!why.wait) {
			for (const c of group) {
				await db.transaction((tx) => failJob(tx, boss, c.job.id, { errorClass: 'account', message: why.reason, refund: true }));
				results.set(c.message.id, { job_id: c.job.id, outcome: 'failed', reason: why.reason });
			}
			continue;
		}
		const before = new Map(group.map((c) => [c.job.id, c.job]));
		await db.transaction(async (tx) => {
			const rows = await tx
				.update(jobs)
				.set({ waitReason: why.reason, progress: null, updatedAt: sql`now()` })
				.where(
					and(
						anyId(jobs.id, group.map((c) => c.job.id)),
						eq(jobs.status, 'queued'),
						eq(jobs.holdsSlot, false)
					)
				)
				.returning();
			// Each waits under its own key (as requeueSubmit sends it), all in one statement: a freed
			// slot makes the message due (jobs/queueing.ts wakeWaitingSubmits).
			await enqueueMany(
				boss,
				'generation.submit',
				rows.map((row) => ({
					payload: { job_id: row.id },
					singletonKey: row.id,
					startAfter: new Date(Date.now() + waitDelayMs(row, why, config.GENERATION_WAIT_MAX_MS)),
					priority: bossPriority(row.priority)
				})),
				{ tx }
			);
			await publishEvents(
				tx,
				rows
					.filter((row) => before.get(row.id)?.waitReason !== why.reason)
					.map((row) => ({ ownerId: row.ownerId, type: 'job.queued' as const, jobId: row.id, data: jobJson(row) }))
			);
		});
		for (const c of group) {
			ctx.log.info({ job_id: c.job.id, wait_reason: why.reason }, 'pipeline:waiting');
			results.set(c.message.id, { job_id: c.job.id, outcome: 'waiting', reason: why.reason });
		}
	}
}
