/**
 * POST /api/v1/assets/{id}/frame against the built app: a frame of a real stored video becomes an
 * image asset through the upload path (content-addressed, quota charged, duplicate by sha256) with
 * its lineage edge to the video; every bad input answers its error, never 500.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FrameAssetJson } from '../../src/lib/schemas/assets';
import { assetLineage, assets, users } from '../../src/lib/server/db/schema';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { startAppServer, type AppServer } from '../support/app-server';
import { makeAsset, makeReadyStoredAsset } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, parseBody, registerViaApi, type RegisteredUser } from '../support/http';
import { mp4 } from '../support/media';

const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let root: string;
let storage: Storage;
let videoBytes: Buffer;

beforeAll(async () => {
	t = await createTestDatabase();
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-http-frame-'));
	storage = createLocalStorage(root);
	videoBytes = fs.readFileSync(await mp4(root, { seconds: 2 }));
	server = await startAppServer(t.url, { FS_ROOT: root });
	api = new ApiClient(server.url);
	await registerViaApi(api); // the admin
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
	if (root) fs.rmSync(root, { recursive: true, force: true });
});

/**
 * A ready 2-second 320×240 video of the user's, stored as ingest leaves it. Each row gets its own
 * sha256 (the file is shared), so one user can have several.
 */
const readyVideo = (ownerId: string, overrides: Parameters<typeof makeAsset>[2] = {}) =>
	makeReadyStoredAsset(t.db, storage, ownerId, videoBytes, {
		mediaType: 'video',
		mime: 'video/mp4',
		width: 320,
		height: 240,
		durationSec: 2,
		originalFilename: 'clip.mp4',
		sha256: randomBytes(32).toString('hex'),
		...overrides
	});

async function storageUsed(userId: string): Promise<number> {
	const [u] = await t.db.select({ used: users.storageBytesUsed }).from(users).where(eq(users.id, userId));
	return u.used;
}

describe('POST /api/v1/assets/{id}/frame', () => {
	let user: RegisteredUser;
	beforeAll(async () => {
		user = await registerViaApi(api);
	});

	it('makes a processing PNG image from the poster moment, charged and linked to the video; the same frame again is its duplicate', async () => {
		const as = api.as(user.token);
		const video = await readyVideo(user.id);
		const before = await storageUsed(user.id);

		const res = await as.post(`/api/v1/assets/${video.id}/frame`, {});
		expect(res.status, res.text).toBe(201);
		const frame = parseBody(FrameAssetJson, res);
		expect(frame).toMatchObject({
			media_type: 'image',
			mime: 'image/png',
			status: 'processing',
			duplicate: false,
			at_sec: 1,
			original_filename: 'clip-frame-1s.png'
		});
		expect(frame.sha256).toMatch(/^[0-9a-f]{64}$/);
		expect(frame.file_size_bytes).toBeGreaterThan(0);
		// Stored under its content address, charged to the user's storage, ingest queued.
		const [row] = await t.db.select().from(assets).where(eq(assets.id, frame.id));
		expect(row.storageKey).toBe(`originals/${frame.sha256!.slice(0, 2)}/${frame.sha256}.png`);
		expect(fs.statSync(path.join(root, row.storageKey!)).size).toBe(frame.file_size_bytes);
		expect(await storageUsed(user.id)).toBe(before + frame.file_size_bytes!);
		const ingest = await t.sql`select 1 from pgboss.job where name = 'assets.ingest' and data->>'asset_id' = ${frame.id}`;
		expect(ingest).toHaveLength(1);
		const edges = await t.db.select().from(assetLineage).where(eq(assetLineage.childAssetId, frame.id));
		expect(edges).toMatchObject([{ parentAssetId: video.id, relation: 'source_video' }]);

		const again = await as.post(`/api/v1/assets/${video.id}/frame`, { at_sec: 1 });
		expect(again.status, again.text).toBe(200);
		expect(parseBody(FrameAssetJson, again)).toMatchObject({ id: frame.id, duplicate: true, at_sec: 1 });
		expect(await storageUsed(user.id)).toBe(before + frame.file_size_bytes!);
		expect(await t.db.select().from(assets).where(and(eq(assets.ownerId, user.id), eq(assets.sha256, frame.sha256!)))).toHaveLength(1);
	});

	it('takes the frame at a given time, and restores a duplicate from the trash', async () => {
		const as = api.as(user.token);
		const video = await readyVideo(user.id, { originalFilename: 'other.mp4' });
		const first = parseBody(FrameAssetJson, await as.post(`/api/v1/assets/${video.id}/frame`, { at_sec: 0 }));
		expect(first).toMatchObject({ at_sec: 0, original_filename: 'other-frame-0s.png', duplicate: false });
		const later = parseBody(FrameAssetJson, await as.post(`/api/v1/assets/${video.id}/frame`, { at_sec: 1.5 }));
		expect(later.sha256).not.toBe(first.sha256);

		expect((await as.delete(`/api/v1/assets/${first.id}`)).status).toBe(204);
		const restored = await as.post(`/api/v1/assets/${video.id}/frame`, { at_sec: 0 });
		expect(restored.status, restored.text).toBe(200);
		expect(parseBody(FrameAssetJson, restored)).toMatchObject({ id: first.id, duplicate: true, deleted_at: null });
	});

	it('answers 400 for an image or a time outside the video, 404 for another user’s or an unknown asset, 409 for a video not ready or in the trash', async () => {
		const owner = await registerViaApi(api);
		const as = api.as(owner.token);
		const video = await readyVideo(owner.id, { originalFilename: 'bounds.mp4' });
		for (const at_sec of [2, 5, -1, 'x', null]) {
			const error = expectError(await as.post(`/api/v1/assets/${video.id}/frame`, { at_sec }), 'validation_error');
			expect(fieldsOf(error)).toHaveProperty('at_sec');
		}
		expect(expectError(await as.post(`/api/v1/assets/${video.id}/frame`, { at_sec: 2 }), 'validation_error').message).toMatch(/2 s long/);
		expectError(await as.post(`/api/v1/assets/${video.id}/frame`, undefined, { rawBody: '{nope', headers: { 'content-type': 'application/json' } }), 'validation_error');

		const image = await makeAsset(t.db, owner.id);
		expect(fieldsOf(expectError(await as.post(`/api/v1/assets/${image.id}/frame`, {}), 'validation_error'))).toHaveProperty('asset_id');

		const mallory = await registerViaApi(api);
		expectError(await api.as(mallory.token).post(`/api/v1/assets/${video.id}/frame`, {}), 'not_found');
		expectError(await as.post(`/api/v1/assets/${UNKNOWN_ID}/frame`, {}), 'not_found');
		expectError(await as.post('/api/v1/assets/not-a-uuid/frame', {}), 'not_found');
		expectError(await api.post(`/api/v1/assets/${video.id}/frame`, {}), 'unauthorized');

		const processing = await readyVideo(owner.id, { status: 'processing' });
		expect(expectError(await as.post(`/api/v1/assets/${processing.id}/frame`, {}), 'conflict').message).toMatch(/not ready/);
		const failed = await readyVideo(owner.id, { status: 'failed' });
		expectError(await as.post(`/api/v1/assets/${failed.id}/frame`, {}), 'conflict');
		const trashed = await readyVideo(owner.id, { deletedAt: new Date() });
		expect(expectError(await as.post(`/api/v1/assets/${trashed.id}/frame`, {}), 'conflict').message).toMatch(/trash/);
		// Nothing was made by any of them.
		expect(await t.db.select().from(assets).where(and(eq(assets.ownerId, owner.id), eq(assets.mediaType, 'image')))).toHaveLength(1);
	});

	it('is in the OpenAPI document with its request and both answers', async () => {
		const doc = z
			.object({ paths: z.record(z.string(), z.record(z.string(), z.object({ requestBody: z.unknown().optional(), responses: z.record(z.string(), z.unknown()) }))) })
			.parse((await api.get('/api/v1/openapi.json')).body);
		const op = doc.paths['/api/v1/assets/{id}/frame']?.post;
		expect(op).toBeDefined();
		expect(op!.requestBody).toBeDefined();
		expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '404', '409']));
	});
});
