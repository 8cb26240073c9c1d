/** Reading and managing assets over HTTP against the built app, on rows and files the test places. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AssetDetailJson, AssetJson, AssetPage, AssetStats, BulkAssetResult, LineageGraphJson } from '../../src/lib/schemas/assets';
import { WorkspaceJson } from '../../src/lib/schemas/workspaces';
import { MeResponse } from '../../src/lib/schemas/users';
import { assets, assetVariants, jobs, users } from '../../src/lib/server/db/schema';
import { addLineage } from '../../src/lib/server/lineage/service';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { makeAsset, makeReadyStoredAsset, makeThumb } from '../support/asset-rows';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, fieldsOf, parseBody, registerViaApi, type RegisteredUser } from '../support/http';

const UNKNOWN_ID = '7d0f1e52-5a3b-4c1e-9a51-2b2f7a0c9d11';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let root: string;
let storage: Storage;

beforeAll(async () => {
	t = await createTestDatabase();
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-http-assets-'));
	storage = createLocalStorage(root);
	server = await startAppServer(t.url, { FS_ROOT: root });
	api = new ApiClient(server.url);
	await registerViaApi(api); // the admin
});
afterAll(async () => {
	await server?.stop();
	await t?.destroy();
	if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** A request whose body may be bytes: status, headers and the raw body. */
async function raw(p: string, token: string | null, headers: Record<string, string> = {}) {
	const res = await fetch(new URL(p, server.url), { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
	const body = Buffer.from(await res.arrayBuffer());
	return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as unknown };
}

async function storageUsed(userId: string) {
	const [u] = await t.db.select({ used: users.storageBytesUsed }).from(users).where(eq(users.id, userId));
	return u.used;
}

describe('GET /api/v1/assets', () => {
	let user: RegisteredUser;
	let made: Awaited<ReturnType<typeof makeAsset>>[];
	let workspaceId: string;
	beforeAll(async () => {
		user = await registerViaApi(api);
		workspaceId = parseBody(WorkspaceJson, await api.as(user.token).post('/api/v1/workspaces', { name: 'W' })).id;
		made = [];
		const base = Date.parse('2026-03-01T00:00:00Z');
		for (let i = 0; i < 5; i++) made.push(await makeAsset(t.db, user.id, { createdAt: new Date(base + i * 1000), originalFilename: `shot_${i}.png` }));
		made.push(await makeAsset(t.db, user.id, { createdAt: new Date(base + 10_000), mediaType: 'video', mime: 'video/mp4', originalFilename: 'clip.mp4', workspaceId }));
		made.push(await makeAsset(t.db, user.id, { createdAt: new Date(base + 11_000), status: 'failed', errorMessage: 'Not an image', providerId: 'pixverse', providerAssetId: 'px-1' }));
		made.push(await makeAsset(t.db, user.id, { createdAt: new Date(base + 12_000), deletedAt: new Date(), originalFilename: 'binned.png' }));
		await makeThumb(t.db, storage, made[0].id, 256);
	});

	it('pages newest first with an opaque cursor, excluding the trash', async () => {
		const as = api.as(user.token);
		const ids: string[] = [];
		let next: string | null = null;
		let pages = 0;
		do {
			const res = await as.get(`/api/v1/assets?limit=3${next ? `&cursor=${next}` : ''}`);
			expect(res.status, res.text).toBe(200);
			const page = parseBody(AssetPage, res);
			ids.push(...page.items.map((i) => i.id));
			next = page.next_cursor;
			pages++;
		} while (next);
		expect(pages).toBe(3);
		expect(ids).toEqual(made.slice(0, 7).map((a) => a.id).reverse());
	});

	it('gives each item its URLs and no storage internals', async () => {
		const page = parseBody(AssetPage, await api.as(user.token).get('/api/v1/assets?q=shot_0'));
		expect(page.items).toHaveLength(1);
		const item = AssetJson.strict().parse(page.items[0]);
		expect(item).toMatchObject({
			id: made[0].id,
			file_url: `/api/v1/assets/${made[0].id}/file`,
			thumbnails: { '256': `/api/v1/assets/${made[0].id}/thumbs/256` },
			poster: null,
			deleted_at: null
		});
	});

	it('filters by media type, status, workspace, provider, filename and shows the trash on request', async () => {
		const as = api.as(user.token);
		const ids = async (q: string) => parseBody(AssetPage, await as.get(`/api/v1/assets?${q}`)).items.map((i) => i.id);
		expect(await ids('media_type=video')).toEqual([made[5].id]);
		expect(await ids('status=failed')).toEqual([made[6].id]);
		expect(await ids(`workspace_id=${workspaceId}`)).toEqual([made[5].id]);
		expect(await ids('provider_id=pixverse')).toEqual([made[6].id]);
		expect(await ids('q=SHOT_')).toEqual(made.slice(0, 5).map((a) => a.id).reverse());
		expect(await ids('q=%25')).toEqual([]);
		expect(await ids('trash=true')).toEqual([made[7].id]);
		expect(await ids('media_type=image&status=ready&limit=2')).toEqual([made[4].id, made[3].id]);
	});

	it('shows where a generated asset came from (provider, job, operation) and finds it by its prompt', async () => {
		const [job] = await t.db
			.insert(jobs)
			.values({ ownerId: user.id, operationType: 'text_to_video', providerId: 'pixverse', params: {}, prompt: 'Lanterns drifting over a lake' })
			.returning();
		const generated = await makeAsset(t.db, user.id, { providerId: 'pixverse', providerAssetId: 'px-lanterns', sourceJobId: job.id, originalFilename: null });
		try {
			const as = api.as(user.token);
			const page = parseBody(AssetPage, await as.get('/api/v1/assets?q=drifting%20over'));
			expect(page.items.map((i) => [i.id, i.provider_id, i.source_job_id, i.operation_type])).toEqual([
				[generated.id, 'pixverse', job.id, 'text_to_video']
			]);
			const detail = parseBody(AssetDetailJson, await as.get(`/api/v1/assets/${generated.id}`));
			expect(detail).toMatchObject({ provider_id: 'pixverse', source_job_id: job.id, operation_type: 'text_to_video' });
			expect(parseBody(AssetDetailJson, await as.get(`/api/v1/assets/${made[0].id}`)).operation_type).toBeNull();
		} finally {
			await t.db.delete(assets).where(eq(assets.id, generated.id));
		}
	});

	it('answers 400 for bad query values and a forged cursor', async () => {
		const as = api.as(user.token);
		for (const q of ['limit=0', 'limit=201', 'limit=x', 'media_type=gif', 'status=gone', 'workspace_id=12', 'trash=yes', 'cursor=forged']) {
			const err = expectError(await as.get(`/api/v1/assets?${q}`), 'validation_error');
			expect(Object.keys(fieldsOf(err))).toEqual([q.split('=')[0]]);
		}
	});

	it('answers 404 for another user’s workspace filter, 401 without a token, and shows nobody else’s assets', async () => {
		const other = await registerViaApi(api);
		expectError(await api.as(other.token).get(`/api/v1/assets?workspace_id=${workspaceId}`), 'not_found');
		expect(parseBody(AssetPage, await api.as(other.token).get('/api/v1/assets')).items).toEqual([]);
		expectError(await api.get('/api/v1/assets'), 'unauthorized');
	});
});

describe('GET /api/v1/assets/{id}', () => {
	it('answers the asset with thumbnails, poster, file URL and lineage counts', async () => {
		const user = await registerViaApi(api);
		const video = await makeAsset(t.db, user.id, { mediaType: 'video', mime: 'video/mp4', durationSec: 2.5 });
		await makeThumb(t.db, storage, video.id, 256);
		await t.db.insert(assetVariants).values({ assetId: video.id, kind: 'poster', size: 0, format: 'webp', width: 64, height: 36, byteSize: 10, storageKey: `derived/${video.id}/poster.webp` });
		const parent = await makeAsset(t.db, user.id);
		await addLineage(t.db, { childAssetId: video.id, parents: [{ assetId: parent.id, relation: 'source_image' }], operationType: 'image_to_video' });

		const res = await api.as(user.token).get(`/api/v1/assets/${video.id}`);
		expect(res.status).toBe(200);
		const body = parseBody(AssetDetailJson.strict(), res);
		expect(body).toMatchObject({
			id: video.id,
			media_type: 'video',
			duration_sec: 2.5,
			thumbnails: { '256': `/api/v1/assets/${video.id}/thumbs/256` },
			poster: `/api/v1/assets/${video.id}/poster`,
			file_url: `/api/v1/assets/${video.id}/file`,
			lineage: { parents: 1, children: 0 }
		});
	});

	it('answers 404 for another user’s asset, an unknown, a purged and a malformed id; 401 without a token', async () => {
		const owner = await registerViaApi(api);
		const mallory = await registerViaApi(api);
		const asset = await makeAsset(t.db, owner.id);
		const purged = await makeAsset(t.db, owner.id, { deletedAt: new Date(), purgedAt: new Date() });
		expectError(await api.as(mallory.token).get(`/api/v1/assets/${asset.id}`), 'not_found');
		expectError(await api.as(owner.token).get(`/api/v1/assets/${UNKNOWN_ID}`), 'not_found');
		expectError(await api.as(owner.token).get(`/api/v1/assets/${purged.id}`), 'not_found');
		expectError(await api.as(owner.token).get('/api/v1/assets/not-a-uuid'), 'not_found');
		expectError(await api.get(`/api/v1/assets/${asset.id}`), 'unauthorized');
	});
});

describe('trash, restore and purge', () => {
	it('DELETE moves to the trash (204), restore brings it back (200)', async () => {
		const user = await registerViaApi(api);
		const as = api.as(user.token);
		const asset = await makeAsset(t.db, user.id);
		const del = await as.delete(`/api/v1/assets/${asset.id}`);
		expect(del.status).toBe(204);
		expect(del.text).toBe('');
		expect(parseBody(AssetPage, await as.get('/api/v1/assets')).items).toEqual([]);
		const trash = parseBody(AssetPage, await as.get('/api/v1/assets?trash=true')).items;
		expect(trash.map((i) => i.id)).toEqual([asset.id]);
		expect(trash[0].deleted_at).not.toBeNull();
		// Still readable from the trash view.
		expect((await as.get(`/api/v1/assets/${asset.id}`)).status).toBe(200);

		const restored = await as.post(`/api/v1/assets/${asset.id}/restore`);
		expect(restored.status).toBe(200);
		expect(parseBody(AssetJson, restored).deleted_at).toBeNull();
		expect(parseBody(AssetPage, await as.get('/api/v1/assets')).items.map((i) => i.id)).toEqual([asset.id]);
	});

	it('DELETE ?permanent=true purges: files gone, storage released, then 404', async () => {
		const user = await registerViaApi(api);
		const as = api.as(user.token);
		const bytes = randomBytes(4096);
		const asset = await makeReadyStoredAsset(t.db, storage, user.id, bytes);
		const thumb = await makeThumb(t.db, storage, asset.id, 256);
		await t.db.update(users).set({ storageBytesUsed: 10_000 }).where(eq(users.id, user.id));

		expect((await as.delete(`/api/v1/assets/${asset.id}?permanent=true`)).status).toBe(204);
		expect(await storageUsed(user.id)).toBe(10_000 - 4096);
		expect(parseBody(MeResponse, await as.get('/api/v1/users/me')).usage.storage_bytes_used).toBe(10_000 - 4096);
		expect(await storage.exists(asset.storageKey!)).toBe(false);
		expect(await storage.exists(thumb.storageKey)).toBe(false);
		expectError(await as.get(`/api/v1/assets/${asset.id}`), 'not_found');
		expectError(await as.delete(`/api/v1/assets/${asset.id}?permanent=true`), 'not_found');
		expectError(await as.post(`/api/v1/assets/${asset.id}/restore`), 'not_found');
		expect(parseBody(AssetPage, await as.get('/api/v1/assets?trash=true')).items).toEqual([]);
	});

	it('answers 400 for a bad permanent flag, 404 for other users’ assets everywhere, 401 without a token', async () => {
		const owner = await registerViaApi(api);
		const mallory = await registerViaApi(api);
		const asset = await makeAsset(t.db, owner.id);
		expectError(await api.as(owner.token).delete(`/api/v1/assets/${asset.id}?permanent=yes`), 'validation_error');
		const as = api.as(mallory.token);
		expectError(await as.delete(`/api/v1/assets/${asset.id}`), 'not_found');
		expectError(await as.delete(`/api/v1/assets/${asset.id}?permanent=true`), 'not_found');
		expectError(await as.post(`/api/v1/assets/${asset.id}/restore`), 'not_found');
		expectError(await api.delete(`/api/v1/assets/${asset.id}`), 'unauthorized');
		expectError(await api.post(`/api/v1/assets/${asset.id}/restore`), 'unauthorized');
		const [row] = await t.db.select().from(assets).where(eq(assets.id, asset.id));
		expect(row).toMatchObject({ deletedAt: null, purgedAt: null });
	});
});

describe('POST /api/v1/assets/bulk', () => {
	it('trashes, restores, moves and purges the user’s assets, skipping others’ ids', async () => {
		const user = await registerViaApi(api);
		const other = await registerViaApi(api);
		const as = api.as(user.token);
		const mine = [await makeAsset(t.db, user.id), await makeAsset(t.db, user.id)];
		const theirs = await makeAsset(t.db, other.id);
		const ids = [...mine.map((a) => a.id), theirs.id];
		const w = parseBody(WorkspaceJson, await as.post('/api/v1/workspaces', { name: 'Bulk' }));

		const bulk = async (body: unknown) => {
			const res = await as.post('/api/v1/assets/bulk', body);
			expect(res.status, res.text).toBe(200);
			return parseBody(BulkAssetResult.strict(), res).updated;
		};
		expect(await bulk({ ids, action: 'trash' })).toBe(2);
		expect(await bulk({ ids, action: 'restore' })).toBe(2);
		expect(await bulk({ ids, action: 'move', workspace_id: w.id })).toBe(2);
		expect(parseBody(AssetPage, await as.get(`/api/v1/assets?workspace_id=${w.id}`)).items).toHaveLength(2);
		expect(await bulk({ ids, action: 'move', workspace_id: null })).toBe(2);
		expect(await bulk({ ids, action: 'purge' })).toBe(2);
		expect(parseBody(AssetPage, await as.get('/api/v1/assets')).items).toEqual([]);
		const [row] = await t.db.select().from(assets).where(eq(assets.id, theirs.id));
		expect(row).toMatchObject({ deletedAt: null, purgedAt: null, workspaceId: null });
	});

	it('answers 400 for bad bodies, 404 when moving into another user’s workspace, 401 without a token', async () => {
		const user = await registerViaApi(api);
		const other = await registerViaApi(api);
		const as = api.as(user.token);
		const asset = await makeAsset(t.db, user.id);
		expectError(await as.post('/api/v1/assets/bulk', { ids: [], action: 'trash' }), 'validation_error');
		expectError(await as.post('/api/v1/assets/bulk', { ids: ['nope'], action: 'trash' }), 'validation_error');
		expectError(await as.post('/api/v1/assets/bulk', { ids: [asset.id], action: 'explode' }), 'validation_error');
		expectError(await as.post('/api/v1/assets/bulk', { ids: Array.from({ length: 501 }, () => asset.id), action: 'trash' }), 'validation_error');
		const err = expectError(await as.post('/api/v1/assets/bulk', { ids: [asset.id], action: 'move' }), 'validation_error');
		expect(fieldsOf(err).workspace_id).toBeDefined();
		const foreign = parseBody(WorkspaceJson, await api.as(other.token).post('/api/v1/workspaces', { name: 'Foreign' }));
		expectError(await as.post('/api/v1/assets/bulk', { ids: [asset.id], action: 'move', workspace_id: foreign.id }), 'not_found');
		expectError(await api.post('/api/v1/assets/bulk', { ids: [asset.id], action: 'trash' }), 'unauthorized');
	});
});

describe('GET /api/v1/assets/stats', () => {
	it('counts and sums the user’s live assets per media type', async () => {
		const user = await registerViaApi(api);
		await makeAsset(t.db, user.id, { fileSizeBytes: 300 });
		await makeAsset(t.db, user.id, { fileSizeBytes: 200, status: 'processing' });
		await makeAsset(t.db, user.id, { mediaType: 'video', mime: 'video/mp4', fileSizeBytes: 9000 });
		await makeAsset(t.db, user.id, { fileSizeBytes: 1, deletedAt: new Date() });
		await makeAsset(t.db, user.id, { fileSizeBytes: 1, status: 'failed' });
		const res = await api.as(user.token).get('/api/v1/assets/stats');
		expect(res.status).toBe(200);
		expect(parseBody(AssetStats, res)).toEqual({
			image: { count: 2, bytes: 500 },
			video: { count: 1, bytes: 9000 },
			total: { count: 3, bytes: 9500 }
		});
		expectError(await api.get('/api/v1/assets/stats'), 'unauthorized');
	});
});

describe('GET /api/v1/assets/{id}/file', () => {
	let user: RegisteredUser;
	let bytes: Buffer;
	let asset: Awaited<ReturnType<typeof makeReadyStoredAsset>>;
	beforeAll(async () => {
		user = await registerViaApi(api);
		bytes = randomBytes(3 * 1024 * 1024 + 17);
		asset = await makeReadyStoredAsset(t.db, storage, user.id, bytes, { mediaType: 'video', mime: 'video/mp4', originalFilename: 'clip été.mp4' });
	});

	it('serves the whole file with its type, length, ETag, Accept-Ranges and private caching', async () => {
		const res = await raw(`/api/v1/assets/${asset.id}/file`, user.token);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('video/mp4');
		expect(res.headers.get('content-length')).toBe(String(bytes.length));
		expect(res.headers.get('accept-ranges')).toBe('bytes');
		expect(res.headers.get('etag')).toBe(`"${asset.sha256}"`);
		expect(res.headers.get('cache-control')).toMatch(/^private/);
		expect(res.headers.get('x-content-type-options')).toBe('nosniff');
		expect(res.headers.get('content-disposition')).toContain("filename*=UTF-8''clip%20%C3%A9t%C3%A9.mp4");
		expect(res.body.equals(bytes)).toBe(true);
	});

	it('answers HEAD with the headers and no body', async () => {
		const res = await fetch(new URL(`/api/v1/assets/${asset.id}/file`, server.url), { method: 'HEAD', headers: { authorization: `Bearer ${user.token}` } });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-length')).toBe(String(bytes.length));
		expect(res.headers.get('accept-ranges')).toBe('bytes');
		expect((await res.arrayBuffer()).byteLength).toBe(0);
	});

	it('answers ranges with 206 and Content-Range: closed, open-ended and suffix', async () => {
		const size = bytes.length;
		const closed = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: 'bytes=100-199' });
		expect(closed.status).toBe(206);
		expect(closed.headers.get('content-range')).toBe(`bytes 100-199/${size}`);
		expect(closed.headers.get('content-length')).toBe('100');
		expect(closed.body.equals(bytes.subarray(100, 200))).toBe(true);

		const open = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: `bytes=${size - 1000}-` });
		expect(open.status).toBe(206);
		expect(open.headers.get('content-range')).toBe(`bytes ${size - 1000}-${size - 1}/${size}`);
		expect(open.body.equals(bytes.subarray(size - 1000))).toBe(true);

		const suffix = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: 'bytes=-10' });
		expect(suffix.status).toBe(206);
		expect(suffix.body.equals(bytes.subarray(size - 10))).toBe(true);

		const past = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: `bytes=${size - 5}-${size + 100}` });
		expect(past.status).toBe(206);
		expect(past.headers.get('content-range')).toBe(`bytes ${size - 5}-${size - 1}/${size}`);
	});

	it('answers 416 for a range that starts past the end', async () => {
		const res = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: `bytes=${bytes.length}-` });
		expect(res.status).toBe(416);
		expect(res.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
		expect(res.json()).toMatchObject({ error: { code: 'range_not_satisfiable' } });
	});

	it('answers 304 to a matching If-None-Match, and the whole file when If-Range does not match', async () => {
		const etag = `"${asset.sha256}"`;
		const cached = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { 'if-none-match': etag });
		expect(cached.status).toBe(304);
		expect(cached.headers.get('etag')).toBe(etag);
		expect(cached.body.length).toBe(0);
		expect((await raw(`/api/v1/assets/${asset.id}/file`, user.token, { 'if-none-match': '"other"' })).status).toBe(200);
		const stale = await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: 'bytes=0-9', 'if-range': '"other"' });
		expect(stale.status).toBe(200);
		expect(stale.body.length).toBe(bytes.length);
		expect((await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: 'bytes=0-9', 'if-range': etag })).status).toBe(206);
	});

	it('notes when the file was last read, at most once a minute', async () => {
		await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: 'bytes=0-0' });
		const [{ lastAccessedAt }] = await t.db.select({ lastAccessedAt: assets.lastAccessedAt }).from(assets).where(eq(assets.id, asset.id));
		expect(lastAccessedAt).toBeInstanceOf(Date);
		await raw(`/api/v1/assets/${asset.id}/file`, user.token, { range: 'bytes=0-0' });
		const [again] = await t.db.select({ lastAccessedAt: assets.lastAccessedAt }).from(assets).where(eq(assets.id, asset.id));
		expect(again.lastAccessedAt).toEqual(lastAccessedAt);
	});

	it('answers 404 for another user, an upload still in progress and a missing file; 401 without a token', async () => {
		const mallory = await registerViaApi(api);
		const res = await raw(`/api/v1/assets/${asset.id}/file`, mallory.token);
		expect(res.status).toBe(404);
		expect(res.json()).toMatchObject({ error: { code: 'not_found' } });
		const uploading = await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(50), { status: 'uploading' });
		expect((await raw(`/api/v1/assets/${uploading.id}/file`, user.token)).status).toBe(404);
		const missing = await makeAsset(t.db, user.id);
		expect((await raw(`/api/v1/assets/${missing.id}/file`, user.token)).status).toBe(404);
		expect((await raw(`/api/v1/assets/${asset.id}/file`, null)).status).toBe(401);
	});
});

describe('GET /api/v1/assets/{id}/thumbs/{size} and /poster', () => {
	it('serves a ready asset’s thumbnail as image/webp with an ETag (304 when unchanged)', async () => {
		const user = await registerViaApi(api);
		const asset = await makeAsset(t.db, user.id);
		const thumbBytes = randomBytes(321);
		await makeThumb(t.db, storage, asset.id, 256, thumbBytes);
		const res = await raw(`/api/v1/assets/${asset.id}/thumbs/256`, user.token);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('image/webp');
		expect(res.headers.get('cache-control')).toMatch(/^private/);
		expect(res.body.equals(thumbBytes)).toBe(true);
		const etag = res.headers.get('etag')!;
		expect((await raw(`/api/v1/assets/${asset.id}/thumbs/256`, user.token, { 'if-none-match': etag })).status).toBe(304);
	});

	it('answers 404 JSON until the asset is ready, for a size not made, another user and a bad size', async () => {
		const user = await registerViaApi(api);
		const mallory = await registerViaApi(api);
		const processing = await makeAsset(t.db, user.id, { status: 'processing' });
		await makeThumb(t.db, storage, processing.id, 256);
		const notReady = await raw(`/api/v1/assets/${processing.id}/thumbs/256`, user.token);
		expect(notReady.status).toBe(404);
		expect(notReady.headers.get('content-type')).toMatch(/^application\/json/);
		expect(notReady.json()).toMatchObject({ error: { code: 'not_found' } });

		const ready = await makeAsset(t.db, user.id);
		await makeThumb(t.db, storage, ready.id, 256);
		expect((await raw(`/api/v1/assets/${ready.id}/thumbs/1024`, user.token)).status).toBe(404);
		expect((await raw(`/api/v1/assets/${ready.id}/thumbs/abc`, user.token)).status).toBe(404);
		expect((await raw(`/api/v1/assets/${ready.id}/thumbs/256`, mallory.token)).status).toBe(404);
		expect((await raw(`/api/v1/assets/${ready.id}/thumbs/256`, null)).status).toBe(401);
		expect((await raw(`/api/v1/assets/${ready.id}/poster`, user.token)).status).toBe(404);
	});

	it('serves a video’s poster', async () => {
		const user = await registerViaApi(api);
		const video = await makeAsset(t.db, user.id, { mediaType: 'video', mime: 'video/mp4' });
		const poster = randomBytes(99);
		const key = `derived/${video.id}/poster.webp`;
		await storage.putDerived(key, poster);
		await t.db.insert(assetVariants).values({ assetId: video.id, kind: 'poster', size: 0, format: 'webp', width: 64, height: 36, byteSize: 99, storageKey: key });
		const res = await raw(`/api/v1/assets/${video.id}/poster`, user.token);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('image/webp');
		expect(res.body.equals(poster)).toBe(true);
	});
});

describe('GET /api/v1/assets/{id}/lineage', () => {
	it('answers nodes and edges around the asset, bounded by depth', async () => {
		const user = await registerViaApi(api);
		const chain = [];
		for (let i = 0; i < 4; i++) {
			const a = await makeAsset(t.db, user.id);
			if (i > 0) await addLineage(t.db, { childAssetId: a.id, parents: [{ assetId: chain[i - 1].id, relation: 'source_video' }], operationType: 'extend' });
			chain.push(a);
		}
		await makeThumb(t.db, storage, chain[0].id, 256);
		const res = await api.as(user.token).get(`/api/v1/assets/${chain[1].id}/lineage?depth=1`);
		expect(res.status).toBe(200);
		const graph = parseBody(LineageGraphJson, res);
		expect(graph.nodes.map((n) => [n.id, n.depth])).toEqual([
			[chain[0].id, -1],
			[chain[1].id, 0],
			[chain[2].id, 1]
		]);
		expect(graph.nodes[0].thumbnail).toBe(`/api/v1/assets/${chain[0].id}/thumbs/256`);
		expect(graph.edges).toEqual(
			expect.arrayContaining([
				{ parent_id: chain[0].id, child_id: chain[1].id, relation: 'source_video', operation_type: 'extend', job_id: null },
				{ parent_id: chain[1].id, child_id: chain[2].id, relation: 'source_video', operation_type: 'extend', job_id: null }
			])
		);
		expect(parseBody(LineageGraphJson, await api.as(user.token).get(`/api/v1/assets/${chain[0].id}/lineage`)).nodes).toHaveLength(3);
	});

	it('answers 400 for a depth outside 1..5, 404 for another user’s asset, 401 without a token', async () => {
		const user = await registerViaApi(api);
		const mallory = await registerViaApi(api);
		const asset = await makeAsset(t.db, user.id);
		for (const d of ['0', '6', 'x']) expectError(await api.as(user.token).get(`/api/v1/assets/${asset.id}/lineage?depth=${d}`), 'validation_error');
		expectError(await api.as(mallory.token).get(`/api/v1/assets/${asset.id}/lineage`), 'not_found');
		expectError(await api.get(`/api/v1/assets/${asset.id}/lineage`), 'unauthorized');
	});
});

describe('the OpenAPI document', () => {
	it('lists every asset and workspace endpoint', async () => {
		const doc = z.object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) }).parse((await api.get('/api/v1/openapi.json')).body);
		const expected: [string, string[]][] = [
			['/api/v1/assets', ['get']],
			['/api/v1/assets/stats', ['get']],
			['/api/v1/assets/bulk', ['post']],
			['/api/v1/assets/{id}', ['get', 'delete']],
			['/api/v1/assets/{id}/restore', ['post']],
			['/api/v1/assets/{id}/file', ['get']],
			['/api/v1/assets/{id}/thumbs/{size}', ['get']],
			['/api/v1/assets/{id}/poster', ['get']],
			['/api/v1/assets/{id}/lineage', ['get']],
			['/api/v1/workspaces', ['get', 'post']],
			['/api/v1/workspaces/{id}', ['get', 'patch', 'delete']]
		];
		for (const [p, methods] of expected) expect(Object.keys(doc.paths[p] ?? {}).sort(), p).toEqual([...methods].sort());
	});
});
