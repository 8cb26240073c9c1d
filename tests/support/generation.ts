/**
 * For tests of the generation pipeline through the real worker process: a worker started with the
 * test credentials key and fast retry settings, waits on a job's status, and the facts a test
 * checks at the end (assets per job, completed transitions, slots still held).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../src/lib/server/db/client';
import { assets, events, jobs, providerAccounts, type Job, type JobStatus } from '../../src/lib/server/db/schema';
import { TEST_CREDENTIALS_KEY } from './accounts';
import { waitForLog } from './logs';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

export interface GenerationEnv {
	databaseUrl: string;
	root: string;
	env?: Record<string, string>;
}

export function tempRoot(name: string): string {
	return fs.mkdtempSync(path.join(os.tmpdir(), `pixsim7-${name}-`));
}

/** The env every generation worker in these tests runs with (plus the test's own). */
export function workerEnv({ databaseUrl, root, env = {} }: GenerationEnv): Record<string, string> {
	return {
		DATABASE_URL: databaseUrl,
		FS_ROOT: path.join(root, 'media'),
		DATA_DIR: path.join(root, 'data'),
		LOCAL_PROVIDER_DIR: path.join(root, 'local-provider'),
		CREDENTIALS_KEY: TEST_CREDENTIALS_KEY,
		THUMB_SIZES: '256',
		GENERATION_RETRY_BASE_MS: '50',
		GENERATION_WAIT_MAX_MS: '1000',
		...env
	};
}

export async function startGenerationWorker(options: GenerationEnv): Promise<WorkerProcess> {
	const worker = startWorkerProcess(workerEnv(options));
	await waitForLog(worker.output, (l) => l.msg === 'worker:ready', 45_000).catch((err: Error) => {
		throw new Error(`${err.message}\n${worker.errors()}`);
	});
	return worker;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the job row until `done(job)`; the worker's log is in the error when it never happens. */
export async function waitForJob(
	db: Db,
	jobId: string,
	done: (job: Job) => boolean,
	worker?: WorkerProcess,
	timeoutMs = 30_000
): Promise<Job> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const [job] = await db.select().from(jobs).where(eq(jobs.id, jobId));
		if (job && done(job)) return job;
		if (Date.now() > deadline) {
			throw new Error(
				`Job ${jobId} not there within ${timeoutMs} ms: ${JSON.stringify(job)}\n${worker ? worker.output().slice(-8000) + worker.errors() : ''}`
			);
		}
		await sleep(50);
	}
}

export const ended = (job: Job) => (['completed', 'failed', 'cancelled'] as JobStatus[]).includes(job.status);

export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await sleep(50);
	}
}

/** How many assets came from the job, and how many times it was announced completed. */
export async function jobOutcome(db: Db, jobId: string): Promise<{ assets: number; completedEvents: number }> {
	const [a] = await db.select({ n: sql<number>`count(*)::int` }).from(assets).where(eq(assets.sourceJobId, jobId));
	const [e] = await db
		.select({ n: sql<number>`count(*)::int` })
		.from(events)
		.where(and(eq(events.jobId, jobId), eq(events.type, 'job.completed')));
	return { assets: a.n, completedEvents: e.n };
}

/** Slots held anywhere: every account's current_jobs and the jobs flagged as holding one. */
export async function slotsHeld(db: Db): Promise<{ currentJobs: number; holdingJobs: number }> {
	const [a] = await db.select({ n: sql<number>`coalesce(sum(${providerAccounts.currentJobs}), 0)::int` }).from(providerAccounts);
	const [j] = await db.select({ n: sql<number>`count(*)::int` }).from(jobs).where(eq(jobs.holdsSlot, true));
	return { currentJobs: a.n, holdingJobs: j.n };
}
