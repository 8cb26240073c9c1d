import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/lib/server/config';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { apiTokens, assets, jobs, sessions, users, workspaces, type Job } from '../../src/lib/server/db/schema';
import { DEMO_JOB_INPUTS } from '../../src/lib/server/demo/jobs';
import { paramsWithParentAsset } from '../../src/lib/server/jobs/children';
import { findProvider } from '../../src/lib/server/providers/registry';
import { ingestAsset } from '../../src/lib/server/ingest/service';
import { createLocalStorage } from '../../src/lib/server/storage/local';
import { DEMO_EMAIL, DEMO_MEMBER_EMAIL, seedDemo } from '../../src/lib/server/demo/seed';
import { loginUser, LoginLimiter } from '../../src/lib/server/auth/service';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
let dataDir: string;
beforeAll(async () => {
	t = await createTestDatabase();
	dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-demo-'));
});
afterAll(async () => {
	await t.destroy();
	fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('seedDemo', () => {
	it('creates an admin with an API token and a regular user, both able to sign in, and no stray sessions', async () => {
		const cfg = loadConfig({ DATA_DIR: dataDir, DEMO_PASSWORD: 'demo-secret-1' });
		const demo = await seedDemo(t.url, cfg);
		expect(demo).toMatchObject({ email: DEMO_EMAIL, memberEmail: DEMO_MEMBER_EMAIL, password: 'demo-secret-1' });

		const rows = await t.db.select().from(users);
		expect(rows.map((u) => [u.email, u.role]).sort()).toEqual([
			[DEMO_MEMBER_EMAIL, 'user'],
			[DEMO_EMAIL, 'admin']
		]);
		expect(await t.db.select().from(sessions)).toHaveLength(0);
		expect((await t.db.select().from(apiTokens)).map((r) => r.name)).toEqual(['demo script']);
		expect(fs.readFileSync(demo!.credentialsFile, 'utf8')).toContain('demo-secret-1');

		const limiter = new LoginLimiter(cfg);
		const signedIn = await loginUser(t.db, { email: DEMO_EMAIL, password: 'demo-secret-1' }, {}, cfg, limiter);
		expect(signedIn.user.role).toBe('admin');
	});

	it("fills the administrator's gallery through the upload path: images of several shapes and a video in two workspaces, one trashed, each queued for ingest", async () => {
		const cfg = loadConfig({ DATA_DIR: dataDir });
		const [admin] = await t.db.select().from(users).where(eq(users.email, DEMO_EMAIL));
		const rows = await t.db.select().from(assets).where(eq(assets.ownerId, admin.id));
		const byName = new Map(rows.map((a) => [a.originalFilename, a]));
		expect(rows.filter((a) => a.mediaType === 'image')).toHaveLength(6);
		expect(rows.filter((a) => a.mediaType === 'video').map((a) => a.mime)).toEqual(['video/mp4']);
		// The demo jobs' input images were ingested by the seed (jobs take only ready inputs); the
		// rest wait for the worker.
		const readyAtSeed = rows.filter((a) => a.status === 'ready').map((a) => a.originalFilename);
		expect(readyAtSeed.sort()).toEqual([...DEMO_JOB_INPUTS].sort());
		expect(rows.filter((a) => a.status !== 'ready').every((a) => a.status === 'processing')).toBe(true);
		expect(rows.filter((a) => a.deletedAt !== null).map((a) => a.originalFilename)).toEqual(['forest-floor.png']);
		// Charged like any upload.
		const [after] = await t.db.select().from(users).where(eq(users.id, admin.id));
		expect(after.storageBytesUsed).toBe(rows.reduce((sum, a) => sum + (a.fileSizeBytes ?? 0), 0));

		const spaces = await t.db.select().from(workspaces).where(eq(workspaces.ownerId, admin.id));
		const spaceOf = (name: string) => spaces.find((w) => w.id === byName.get(name)?.workspaceId)?.name ?? null;
		expect(spaces.map((w) => w.name).sort()).toEqual(['Motion tests', 'Travel']);
		expect(spaceOf('test-pattern.mp4')).toBe('Motion tests');
		expect(spaceOf('lighthouse-tall.jpg')).toBe('Travel');
		expect(spaceOf('phone-portrait.jpg')).toBeNull();

		const queued = await t.sql`select data->>'asset_id' as id from pgboss.job where name = 'assets.ingest'`;
		expect(queued.map((r) => r.id).sort()).toEqual(rows.map((a) => a.id).sort());

		// What the worker will do with them: every file ingests, with the shapes the demo means to show.
		const ctx = { db: t.db, storage: createLocalStorage(cfg.mediaRoot), config: cfg, log: pino({ level: 'silent' }) };
		for (const a of rows) if (a.status === 'processing') expect((await ingestAsset(ctx, a.id)).outcome).toBe('ready');
		const ready = new Map((await t.db.select().from(assets).where(eq(assets.ownerId, admin.id))).map((a) => [a.originalFilename, a]));
		expect(ready.get('phone-portrait.jpg')).toMatchObject({ width: 900, height: 1200 });
		expect(ready.get('lighthouse-tall.jpg')).toMatchObject({ width: 720, height: 1800 });
		expect(ready.get('desert-panorama.webp')).toMatchObject({ width: 2400, height: 600 });
		expect(ready.get('test-pattern.mp4')).toMatchObject({ width: 640, height: 360 });
		expect(ready.get('test-pattern.mp4')?.durationSec).toBeCloseTo(3, 0);
	});

	it('creates generation jobs on the local renderer through the jobs service: a text-to-video with a chained extension, an image-to-video from a demo image, and a transition scheduled for later', async () => {
		const [admin] = await t.db.select().from(users).where(eq(users.email, DEMO_EMAIL));
		const rows = await t.db.select().from(jobs).where(eq(jobs.ownerId, admin.id));
		const byKey = new Map(rows.map((j) => [j.idempotencyKey, j]));
		expect([...byKey.keys()].sort()).toEqual(['demo:bay-to-city', 'demo:paper-boat', 'demo:paper-boat-extended', 'demo:sunrise-pan']);
		expect(new Set(rows.map((j) => j.providerId))).toEqual(new Set(['local']));
		const assetId = async (filename: string) =>
			(await t.db.select({ id: assets.id }).from(assets).where(and(eq(assets.ownerId, admin.id), eq(assets.originalFilename, filename))))[0].id;
		const sunrise = await assetId('sunrise-over-the-bay.jpg');
		const nightCity = await assetId('night-city.jpg');
		const spaces = new Map((await t.db.select().from(workspaces).where(eq(workspaces.ownerId, admin.id))).map((w) => [w.id, w.name]));
		// The lineage the worker will record when each job completes: the relation of each input.
		const inputsOf = (job: Job) => findProvider('local')!.inputAssets(job.operationType, job.params);

		const boat = byKey.get('demo:paper-boat')!;
		expect(boat).toMatchObject({ operationType: 'text_to_video', status: 'queued', name: 'Paper boat', parentJobId: null });
		expect(spaces.get(boat.workspaceId!)).toBe('Motion tests');

		// Waits for its parent, then takes the parent's video as its source.
		const extended = byKey.get('demo:paper-boat-extended')!;
		expect(extended).toMatchObject({ operationType: 'video_extend', status: 'pending', parentJobId: boat.id });
		expect(extended.params).toMatchObject({ parent_asset_as: 'video_asset_id' });
		expect(inputsOf({ ...extended, params: paramsWithParentAsset(extended.params, 'f0000000-0000-4000-8000-000000000000') })).toEqual([
			{ assetId: 'f0000000-0000-4000-8000-000000000000', relation: 'source_video' }
		]);

		const pan = byKey.get('demo:sunrise-pan')!;
		expect(pan).toMatchObject({ operationType: 'image_to_video', status: 'queued', priority: 3 });
		expect(inputsOf(pan)).toEqual([{ assetId: sunrise, relation: 'source_image' }]);
		expect(spaces.get(pan.workspaceId!)).toBe('Travel');

		const transition = byKey.get('demo:bay-to-city')!;
		expect(transition).toMatchObject({ operationType: 'video_transition', status: 'pending', parentJobId: null });
		expect(transition.scheduledAt!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
		expect(inputsOf(transition)).toEqual([
			{ assetId: sunrise, relation: 'first_frame' },
			{ assetId: nightCity, relation: 'last_frame' }
		]);

		// The worker's submit messages: one per job not waiting for a parent, the scheduled one
		// held until its time.
		const submits = await t.sql<{ job_id: string; start_ms: number }[]>`
			select data->>'job_id' as job_id, (extract(epoch from start_after) * 1000)::float8 as start_ms
			from pgboss.job where name = 'generation.submit'`;
		expect(submits.map((m) => m.job_id).sort()).toEqual([boat.id, pan.id, transition.id].sort());
		expect(submits.find((m) => m.job_id === transition.id)!.start_ms).toBe(transition.scheduledAt!.getTime());
		// Counted against the demo user's daily quota like any job; the other user has none.
		const [usage] = await t.sql`select jobs_created from daily_usage where user_id = ${admin.id}`;
		expect(usage.jobs_created).toBe(4);
		expect(await t.db.select().from(jobs)).toHaveLength(4);
	});

	it('does nothing once the database has users', async () => {
		expect(await seedDemo(t.url, loadConfig({ DATA_DIR: dataDir }))).toBeNull();
		expect(await t.db.select().from(users)).toHaveLength(2);
		expect(await t.db.select().from(jobs)).toHaveLength(4);
		expect(await t.db.select().from(assets)).toHaveLength(7);
	});
});
