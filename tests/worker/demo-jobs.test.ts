/**
 * The demo's generation jobs through the real worker, started after the seed as `npm start` does:
 * the jobs that are due complete with videos in the demo user's gallery, lineage back to the demo
 * image and to the video the chained job extends, while the scheduled one keeps waiting.
 */
import fs from 'node:fs';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetLineage, assets, jobs, users } from '../../src/lib/server/db/schema';
import { DEMO_EMAIL, seedDemo } from '../../src/lib/server/demo/seed';
import { testConfig } from '../support/accounts';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ended, startGenerationWorker, tempRoot, waitForJob, workerEnv } from '../support/generation';
import type { WorkerProcess } from '../support/worker-process';

let t: TestDatabase;
let root: string;
let worker: WorkerProcess | undefined;
const env = () => workerEnv({ databaseUrl: t.url, root, env: { LOCAL_PROVIDER_DELAY_MS: '0' } });

beforeAll(async () => {
	t = await createTestDatabase();
	root = tempRoot('demo-jobs');
}, 60_000);

afterAll(async () => {
	worker?.kill('SIGKILL');
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

describe('the demo jobs', () => {
	it('complete through the worker with lineage to their inputs; the scheduled one waits', async () => {
		// The seed's media root and data folder are the worker's, as under `npm start`.
		const config = testConfig({ ...env(), DEMO_PASSWORD: 'demo-jobs-secret' });
		expect(config.mediaRoot).toBe(path.join(root, 'media'));
		expect(await seedDemo(t.url, config)).not.toBeNull();
		worker = await startGenerationWorker({ databaseUrl: t.url, root, env: env() });

		const [admin] = await t.db.select().from(users).where(eq(users.email, DEMO_EMAIL));
		const seeded = await t.db.select().from(jobs).where(eq(jobs.ownerId, admin.id));
		const byKey = (key: string) => seeded.find((j) => j.idempotencyKey === `demo:${key}`)!;
		const [boat, extended, pan] = await Promise.all(
			['paper-boat', 'paper-boat-extended', 'sunrise-pan'].map((key) => waitForJob(t.db, byKey(key).id, ended, worker, 90_000))
		);
		for (const job of [boat, extended, pan]) expect(job.status, job.errorMessage ?? '').toBe('completed');

		// Their videos are the demo user's, in the gallery once ingested.
		const results = await t.db
			.select()
			.from(assets)
			.where(inArray(assets.id, [boat.assetId!, extended.assetId!, pan.assetId!]));
		expect(results.map((a) => [a.ownerId, a.mediaType])).toEqual(results.map(() => [admin.id, 'video']));

		const [sunrise] = await t.db
			.select({ id: assets.id })
			.from(assets)
			.where(and(eq(assets.ownerId, admin.id), eq(assets.originalFilename, 'sunrise-over-the-bay.jpg')));
		const parentsOf = async (assetId: string) =>
			(await t.db.select().from(assetLineage).where(eq(assetLineage.childAssetId, assetId))).map((l) => [l.parentAssetId, l.relation]);
		expect(await parentsOf(pan.assetId!)).toEqual([[sunrise.id, 'source_image']]);
		expect(await parentsOf(extended.assetId!)).toEqual([[boat.assetId, 'source_video']]);
		expect(await parentsOf(boat.assetId!)).toEqual([]);

		const [transition] = await t.db.select().from(jobs).where(eq(jobs.id, byKey('bay-to-city').id));
		expect(transition.status).toBe('pending');
	}, 120_000);
});
