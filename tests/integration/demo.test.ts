import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/lib/server/config';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { apiTokens, assets, sessions, users, workspaces } from '../../src/lib/server/db/schema';
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
		expect(new Set(rows.map((a) => a.status))).toEqual(new Set(['processing']));
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
		for (const a of rows) expect((await ingestAsset(ctx, a.id)).outcome).toBe('ready');
		const ready = new Map((await t.db.select().from(assets).where(eq(assets.ownerId, admin.id))).map((a) => [a.originalFilename, a]));
		expect(ready.get('phone-portrait.jpg')).toMatchObject({ width: 900, height: 1200 });
		expect(ready.get('lighthouse-tall.jpg')).toMatchObject({ width: 720, height: 1800 });
		expect(ready.get('desert-panorama.webp')).toMatchObject({ width: 2400, height: 600 });
		expect(ready.get('test-pattern.mp4')).toMatchObject({ width: 640, height: 360 });
		expect(ready.get('test-pattern.mp4')?.durationSec).toBeCloseTo(3, 0);
	});

	it('does nothing once the database has users', async () => {
		expect(await seedDemo(t.url, loadConfig({ DATA_DIR: dataDir }))).toBeNull();
		expect(await t.db.select().from(users)).toHaveLength(2);
	});
});
