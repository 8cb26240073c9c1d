/**
 * The generation pipeline end to end through the real worker process with the `local` provider:
 * all five operations become ready video assets of the requested length with their lineage and
 * source job; a job with no account free waits in the queue saying why; cancelling works while
 * queued and while the provider is rendering (the provider's cancel is called).
 */
import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltinAccounts } from '../../src/lib/server/accounts/pool';
import { assetLineage, assets, providerAccounts, providerSubmissions, type Asset, type User } from '../../src/lib/server/db/schema';
import { createJob, cancelJob } from '../../src/lib/server/jobs/service';
import { probeVideo } from '../../src/lib/server/media/video';
import { resolveFfmpegPath } from '../../src/lib/server/media';
import { TaskStore } from '../../src/lib/server/providers/local/tasks';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import type { OperationType } from '../../src/lib/server/db/schema';
import { testConfig } from '../support/accounts';
import { makeReadyStoredAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { ended, jobOutcome, slotsHeld, startGenerationWorker, tempRoot, waitForJob, workerEnv } from '../support/generation';
import * as make from '../support/media';
import type { WorkerProcess } from '../support/worker-process';

const DELAY_MS = 2500;
let t: TestDatabase;
let root: string;
let storage: Storage;
let worker: WorkerProcess;
let boss: PgBoss;
let owner: User;
let image: Asset;
let image2: Asset;
let video: Asset;
const env = () => workerEnv({ databaseUrl: t.url, root, env: { LOCAL_PROVIDER_DELAY_MS: String(DELAY_MS), LOCAL_PROVIDER_SLOTS: '6' } });
const config = () => testConfig(env());

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('gen-local');
	storage = createLocalStorage(path.join(root, 'media'));
	await ensureBuiltinAccounts(t.db, config());
	worker = await startGenerationWorker({ databaseUrl: t.url, root, env: env() });
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	owner = (await makeUser(t.db)).user;
	image = await makeReadyStoredAsset(t.db, storage, owner.id, await make.png(320, 180));
	image2 = await makeReadyStoredAsset(t.db, storage, owner.id, await make.jpeg(200, 200), { mime: 'image/jpeg' });
	const clip = fs.readFileSync(await make.mp4(root, { seconds: 1 }));
	video = await makeReadyStoredAsset(t.db, storage, owner.id, clip, { mediaType: 'video', mime: 'video/mp4', durationSec: 1 });
}, 90_000);

afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

const create = (operationType: OperationType, params: Record<string, unknown>) =>
	createJob(t.db, boss, config(), owner, { operationType, providerId: 'local', params }).then((r) => r.job);

async function durationOf(asset: Asset): Promise<number> {
	const probe = await probeVideo(resolveFfmpegPath(process.env.FFMPEG_PATH), storage.absolutePath(asset.storageKey as string));
	return probe.durationSec ?? 0;
}

describe('local provider through the worker', () => {
	it('runs all five operations to ready MP4 assets of the requested length, with lineage and source job', async () => {
		const cases: { op: OperationType; params: Record<string, unknown>; seconds: number; parents: [string, string][] }[] = [
			{ op: 'text_to_video', params: { prompt: 'a lighthouse at dusk', duration: 2, seed: 1 }, seconds: 2, parents: [] },
			{ op: 'image_to_video', params: { image_asset_id: image.id, duration: 1, seed: 2 }, seconds: 1, parents: [[image.id, 'source_image']] },
			{ op: 'video_extend', params: { video_asset_id: video.id, duration: 1, seed: 3 }, seconds: 2, parents: [[video.id, 'source_video']] },
			{
				op: 'video_transition',
				params: { first_asset_id: image.id, last_asset_id: video.id, duration: 1, seed: 4 },
				seconds: 1,
				parents: [
					[image.id, 'first_frame'],
					[video.id, 'last_frame']
				]
			},
			{
				op: 'fusion',
				params: { image_asset_ids: [image.id, image2.id], duration: 1, seed: 5 },
				seconds: 1,
				parents: [
					[image.id, 'reference'],
					[image2.id, 'reference']
				]
			}
		];
		const created = await Promise.all(cases.map((c) => create(c.op, c.params)));
		// While the provider renders, the job is processing with progress below 1.
		const running = await waitForJob(t.db, created[0].id, (j) => j.status === 'processing' && (j.progress ?? 0) > 0, worker);
		expect(running.progress).toBeLessThan(1);

		for (const [i, c] of cases.entries()) {
			const job = await waitForJob(t.db, created[i].id, ended, worker, 60_000);
			expect(job, c.op).toMatchObject({ status: 'completed', errorMessage: null, holdsSlot: false, progress: 1 });
			const [asset] = await t.db.select().from(assets).where(eq(assets.sourceJobId, job.id));
			expect(asset, c.op).toMatchObject({
				id: job.assetId,
				ownerId: owner.id,
				providerId: 'local',
				providerAccountId: job.accountId,
				syncStatus: 'downloaded',
				mediaType: 'video',
				mime: 'video/mp4'
			});
			const [submission] = await t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, job.id));
			expect(submission).toMatchObject({ status: 'succeeded', providerTaskId: asset.providerAssetId, retryAttempt: 0, accountId: job.accountId });
			expect(submission.durationMs).toBeGreaterThanOrEqual(0);
			expect(await durationOf(asset), c.op).toBeCloseTo(c.seconds, 0);
			const edges = await t.db.select().from(assetLineage).where(eq(assetLineage.childAssetId, asset.id));
			expect(edges.map((e) => [e.parentAssetId, e.relation]).sort(), c.op).toEqual([...c.parents].sort());
			for (const e of edges) expect(e).toMatchObject({ jobId: job.id, operationType: c.op });
			expect(await jobOutcome(t.db, job.id), c.op).toEqual({ assets: 1, completedEvents: 1 });
		}
		// Thumbnails follow through ingest: every result turns ready with its duration read.
		for (const job of created) {
			await expect.poll(async () => (await t.db.select().from(assets).where(eq(assets.sourceJobId, job.id)))[0].status, { timeout: 30_000 }).toBe('ready');
		}
		expect(await slotsHeld(t.db)).toEqual({ currentJobs: 0, holdingJobs: 0 });
	}, 120_000);

	it('keeps a job queued with a reason while no account can take it, and cancels it there', async () => {
		await t.db.update(providerAccounts).set({ status: 'disabled' }).where(eq(providerAccounts.providerId, 'local'));
		try {
			const job = await create('text_to_video', { prompt: 'waiting', duration: 1, seed: 11 });
			const waiting = await waitForJob(t.db, job.id, (j) => j.waitReason !== null, worker);
			expect(waiting).toMatchObject({ status: 'queued', waitReason: expect.stringMatching(/No active account for Local renderer/) });
			// Still queued a while later: waiting for an account is not a failure.
			await new Promise((r) => setTimeout(r, 1500));
			expect((await waitForJob(t.db, job.id, () => true)).status).toBe('queued');

			await cancelJob(t.db, boss, owner, job.id);
			// An account freed later must not pick the cancelled job up (its queue message is still there).
			await new Promise((r) => setTimeout(r, 500));
			await t.db.update(providerAccounts).set({ status: 'active' }).where(eq(providerAccounts.providerId, 'local'));
			await new Promise((r) => setTimeout(r, 1500));
			const after = await waitForJob(t.db, job.id, () => true);
			expect(after.status).toBe('cancelled');
			expect(await t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, job.id))).toEqual([]);
			expect(await jobOutcome(t.db, job.id)).toEqual({ assets: 0, completedEvents: 0 });
		} finally {
			await t.db.update(providerAccounts).set({ status: 'active' }).where(eq(providerAccounts.providerId, 'local'));
		}
	}, 30_000);

	it('cancels a job while the provider renders it: the provider is told, no asset is made, the slot is free', async () => {
		const job = await create('text_to_video', { prompt: 'cancel me', duration: 1, seed: 12 });
		await waitForJob(t.db, job.id, (j) => j.status === 'processing', worker);
		await cancelJob(t.db, boss, owner, job.id);

		const [submission] = await t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, job.id));
		await expect
			.poll(async () => (await t.db.select().from(providerSubmissions).where(eq(providerSubmissions.id, submission.id)))[0].status, { timeout: 15_000 })
			.toBe('cancelled');
		const task = await new TaskStore(path.join(root, 'local-provider')).read(submission.providerTaskId as string);
		expect(task?.cancelled_at).toBeTruthy();
		// Past the render delay: still no asset, still cancelled.
		await new Promise((r) => setTimeout(r, DELAY_MS + 1000));
		expect((await waitForJob(t.db, job.id, () => true)).status).toBe('cancelled');
		expect(await jobOutcome(t.db, job.id)).toEqual({ assets: 0, completedEvents: 0 });
		expect(await slotsHeld(t.db)).toEqual({ currentJobs: 0, holdingJobs: 0 });
	}, 30_000);
});
