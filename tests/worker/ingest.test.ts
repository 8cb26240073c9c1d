/**
 * Ingest through the real worker process: an `assets.ingest` job sent through pg-boss, as the
 * upload paths send it, turns a stored upload into a ready asset with thumbnails on disk; a bad
 * file ends failed without retries. The purge-trash schedule is in place.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets, assetVariants, type User } from '../../src/lib/server/db/schema';
import { createBoss, enqueue, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { jobDefinitions } from '../../src/lib/server/queue/jobs';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { makeStoredAsset } from '../support/assets';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import { parseLog, waitForLog } from '../support/logs';
import * as make from '../support/media';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const SCHEMA = 'pgboss';

let t: TestDatabase;
let root: string;
let storage: Storage;
let worker: WorkerProcess;
let boss: PgBoss;
let owner: User;

beforeAll(async () => {
	t = await createTestDatabase();
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-worker-ingest-'));
	storage = createLocalStorage(root);
	worker = startWorkerProcess({ DATABASE_URL: t.url, PGBOSS_SCHEMA: SCHEMA, FS_ROOT: root, THUMB_SIZES: '256,1024' });
	await waitForLog(worker.output, (l) => l.msg === 'worker:ready', 45_000);
	boss = createBoss(t.url, SCHEMA, 'web');
	await boss.start();
	await ensureQueues(boss);
	owner = (await makeUser(t.db)).user;
});
afterAll(async () => {
	worker?.kill('SIGKILL');
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

async function settled(id: string, timeoutMs = 20_000) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const [row] = await t.db.select().from(assets).where(eq(assets.id, id));
		if (row.status !== 'processing') return row;
		if (Date.now() > deadline) throw new Error(`Asset ${id} still processing.\nWorker log:\n${worker.output()}\n${worker.errors()}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

describe('ingest in the worker process', () => {
	it('turns a stored JPEG and an MP4 into ready assets with their variants', async () => {
		const image = await makeStoredAsset(t.db, storage, owner.id, await make.jpegRotated());
		const video = await makeStoredAsset(t.db, storage, owner.id, fs.readFileSync(await make.mp4(root)), {
			extension: 'mp4',
			mediaType: 'video',
			mime: 'video/mp4'
		});
		const jobIds = await Promise.all([image, video].map((a) => enqueue(boss, 'assets.ingest', { asset_id: a.id })));

		expect(await settled(image.id)).toMatchObject({ status: 'ready', width: 200, height: 400 });
		expect(await settled(video.id)).toMatchObject({ status: 'ready', mediaType: 'video', width: 320, height: 240 });
		const variants = await t.db.select().from(assetVariants).where(eq(assetVariants.assetId, video.id));
		expect(variants.map((v) => `${v.kind}-${v.size}`).sort()).toEqual(['poster-0', 'thumb-1024', 'thumb-256']);
		for (const v of variants) expect(fs.existsSync(storage.absolutePath(v.storageKey))).toBe(true);

		const done = await waitForLog(worker.output, (l) => l.msg === 'queue:done' && l.queue_job_id === jobIds[0]);
		expect(done).toMatchObject({ queue: 'assets.ingest', asset_id: image.id, outcome: 'ready', variants: 2 });
		expect(parseLog(worker.output()).find((l) => l.msg === 'ingest:ready' && l.asset_id === video.id)).toMatchObject({
			media_type: 'video',
			duration_sec: expect.closeTo(2, 1)
		});
	});

	it('marks a text file named .jpg failed with the reason, once: the job completes, no retry', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, make.textFile());
		const jobId = await enqueue(boss, 'assets.ingest', { asset_id: asset.id });
		const row = await settled(asset.id);
		expect(row).toMatchObject({ status: 'failed', errorMessage: expect.stringMatching(/not a supported image or video/) });
		await waitForLog(worker.output, (l) => l.msg === 'queue:done' && l.queue_job_id === jobId);
		const job = await boss.getJobById('assets.ingest', jobId!);
		expect(job).toMatchObject({ state: 'completed', retryCount: 0 });
	});

	it('has the trash purge scheduled, in UTC', async () => {
		const schedules = await boss.getSchedules();
		expect(schedules.find((s) => s.name === 'assets.purge-trash')).toMatchObject({
			cron: jobDefinitions['assets.purge-trash'].cron,
			timezone: 'UTC'
		});
	});

	it('logged nothing at error level and wrote nothing to stderr', () => {
		expect(parseLog(worker.output()).filter((l) => l.level >= 50)).toEqual([]);
		expect(worker.errors()).toBe('');
	});
});
