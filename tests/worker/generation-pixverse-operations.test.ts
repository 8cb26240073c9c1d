/**
 * Each of Pixverse's five operations through the real worker process against the Pixverse
 * stand-in: the inputs are uploaded once per account and cached, the ledger keeps exactly the
 * payload Pixverse received, and every result becomes its own ready video asset from Pixverse.
 * (Error classes and failover: generation-pixverse.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetProviderUploads, assets, providerSubmissions, type Asset, type OperationType, type User } from '../../src/lib/server/db/schema';
import { createJob } from '../../src/lib/server/jobs/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { makeAccount, testConfig } from '../support/accounts';
import { makeReadyStoredAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { ended, startGenerationWorker, tempRoot, waitForJob, waitUntil, workerEnv } from '../support/generation';
import * as make from '../support/media';
import { startPixverseStandin, type PixverseStandin } from '../support/pixverse-standin';
import type { WorkerProcess } from '../support/worker-process';

const apiKey = 'px-worker-test-key-4f9b2c7d1e';
let t: TestDatabase;
let root: string;
let storage: Storage;
let px: PixverseStandin;
let worker: WorkerProcess;
let boss: PgBoss;
let owner: User;
let accountId: string;
let image: Asset;
let image2: Asset;
let video: Asset;
const env = () => workerEnv({ databaseUrl: t.url, root, env: { PIXVERSE_BASE_URL: px.url, PIXVERSE_POLL_MS: '50', PIXVERSE_TIMEOUT_MS: '5000' } });

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('gen-pixverse-ops');
	storage = createLocalStorage(path.join(root, 'media'));
	px = await startPixverseStandin({ keys: { main: apiKey }, statuses: [5, 5, 1] });
	worker = await startGenerationWorker({ databaseUrl: t.url, root, env: env() });
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
	owner = (await makeUser(t.db)).user;
	accountId = (await makeAccount(t.db, { credentials: { api_key: apiKey }, credits: { default: 1000 }, maxConcurrentJobs: 5 })).id;
	image = await makeReadyStoredAsset(t.db, storage, owner.id, await make.png(320, 180));
	image2 = await makeReadyStoredAsset(t.db, storage, owner.id, await make.jpeg(200, 200), { mime: 'image/jpeg' });
	// Made the way the stand-in makes its result file: the same bytes but for the stand-in's
	// per-video tail, so a result must not be mistaken for this input.
	const clip = fs.readFileSync(await make.mp4(root, { seconds: 1 }));
	video = await makeReadyStoredAsset(t.db, storage, owner.id, clip, { mediaType: 'video', mime: 'video/mp4', durationSec: 1 });
}, 90_000);

afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await px?.stop();
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

const create = (operationType: OperationType, params: Record<string, unknown>) =>
	createJob(t.db, boss, testConfig(env()), owner, { operationType, providerId: 'pixverse', params }).then((r) => r.job);

describe('pixverse operations through the worker', () => {
	it('runs all five to ready video assets, uploading each input once per account', async () => {
		const cases: { op: OperationType; params: Record<string, unknown>; endpoint: string }[] = [
			{ op: 'text_to_video', params: { prompt: 'a lighthouse at dusk', seed: 1 }, endpoint: '/video/text/generate' },
			{ op: 'image_to_video', params: { prompt: 'waves', image_asset_id: image.id }, endpoint: '/video/img/generate' },
			{ op: 'video_extend', params: { prompt: 'on and on', video_asset_id: video.id }, endpoint: '/video/extend/generate' },
			{ op: 'video_transition', params: { prompt: 'morph', first_asset_id: image.id, last_asset_id: image2.id }, endpoint: '/video/transition/generate' },
			{ op: 'fusion', params: { prompt: '@ref1 meets @ref2', image_asset_ids: [image.id, image2.id] }, endpoint: '/video/fusion/generate' }
		];
		// One after the other, so each input is uploaded by the first job that needs it and cached after.
		for (const c of cases) {
			const job = await waitForJob(t.db, (await create(c.op, c.params)).id, ended, worker, 30_000);
			expect(job, c.op).toMatchObject({ status: 'completed', errorMessage: null, holdsSlot: false, accountId });
			const [asset] = await t.db.select().from(assets).where(eq(assets.sourceJobId, job.id));
			const [submission] = await t.db.select().from(providerSubmissions).where(eq(providerSubmissions.jobId, job.id));
			const sent = px.requests.filter((r) => r.path === c.endpoint).at(-1)!;
			expect(submission.payload, c.op).toEqual(sent.body);
			expect(asset, c.op).toMatchObject({
				id: job.assetId,
				providerId: 'pixverse',
				providerAccountId: accountId,
				providerAssetId: submission.providerTaskId,
				mediaType: 'video',
				mime: 'video/mp4'
			});
			expect(asset.remoteUrl).toBe(`${px.origin}/files/${submission.providerTaskId}.mp4`);
		}
		// Three inputs, each uploaded once although `image` serves three jobs.
		expect(px.requestsTo('/image/upload')).toHaveLength(2);
		expect(px.requestsTo('/media/upload')).toHaveLength(1);
		const cached = await t.db.select().from(assetProviderUploads).where(eq(assetProviderUploads.providerAccountId, accountId));
		expect(cached).toHaveLength(3);

		// Each result is its own asset and a real video: ingest probes it to ready with its length.
		const fromPixverse = () => t.db.select().from(assets).where(eq(assets.providerId, 'pixverse'));
		expect(await fromPixverse()).toHaveLength(cases.length);
		await waitUntil(async () => (await fromPixverse()).every((a) => a.status === 'ready'), 'the results to be ingested');
		for (const a of await fromPixverse()) expect(a.durationSec).toBeCloseTo(1, 0);
	});

	it('keeps the API key out of the ledger and the worker log', async () => {
		const rows = await t.db.select().from(providerSubmissions);
		expect(rows.length).toBeGreaterThan(0);
		expect(JSON.stringify(rows).includes(apiKey)).toBe(false);
		expect(worker.output().includes(apiKey)).toBe(false);
	});
});
