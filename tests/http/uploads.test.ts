/**
 * The upload paths over HTTP against the built app: init → PUT → complete, and the multipart
 * form. Every bad-input case leaves nothing partial visible and the storage counter unchanged.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets, users } from '../../src/lib/server/db/schema';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, expectError, registerViaApi, type RegisteredUser } from '../support/http';
import { expectNoServerErrors } from '../support/logs';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let fsRoot: string;
let alice: RegisteredUser;
let bob: RegisteredUser;
let png: Buffer;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function makePng(seed: number): Promise<Buffer> {
	return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: seed % 256, g: 80, b: 160 } } })
		.png()
		.toBuffer();
}

beforeAll(async () => {
	t = await createTestDatabase();
	fsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-uploads-'));
	server = await startAppServer(t.url, { FS_ROOT: fsRoot, MAX_UPLOAD_MB: '1' });
	api = new ApiClient(server.url);
	alice = await registerViaApi(api);
	bob = await registerViaApi(api);
	png = await makePng(1);
});
afterAll(async () => {
	expectNoServerErrors(server?.output() ?? '');
	await server?.stop();
	await t?.destroy();
	fs.rmSync(fsRoot, { recursive: true, force: true });
});

async function storageUsed(userId: string): Promise<number> {
	const [u] = await t.db.select({ used: users.storageBytesUsed }).from(users).where(eq(users.id, userId));
	return u.used;
}

async function init(user: RegisteredUser, body: Record<string, unknown>) {
	return api.post('/api/v1/uploads/init', body, { token: user.token });
}

async function put(assetId: string, token: string | null, bytes: Buffer) {
	const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
	if (token) headers['x-upload-token'] = token;
	const res = await fetch(`${server.url}/api/v1/uploads/${assetId}`, { method: 'PUT', headers, body: new Uint8Array(bytes) });
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** init → PUT → complete for `bytes`, answering the complete response. */
async function upload(user: RegisteredUser, bytes: Buffer, filename = 'picture.png', mime = 'image/png') {
	const started = await init(user, { filename, size_bytes: bytes.length, mime });
	expect(started.status, started.text).toBe(201);
	const { asset_id, upload_token } = started.body as { asset_id: string; upload_token: string };
	expect((await put(asset_id, upload_token, bytes)).status).toBe(200);
	return { assetId: asset_id, res: await api.post('/api/v1/uploads/complete', { asset_id }, { token: user.token }) };
}

describe('init → PUT → complete', () => {
	it('stores the file, charges the quota, records usage and queues ingest in one step', async () => {
		const before = await storageUsed(alice.id);
		const { assetId, res } = await upload(alice, png, '../../etc/holiday.png');
		expect(res.status).toBe(202);
		expect(res.body).toEqual({ asset_id: assetId, status: 'processing' });

		const [row] = await t.db.select().from(assets).where(eq(assets.id, assetId));
		expect(row).toMatchObject({ status: 'processing', sha256: sha256(png), fileSizeBytes: png.length, mime: 'image/png' });
		expect(row.originalFilename).toBe('holiday.png');
		expect(row.storageKey).toContain(sha256(png));
		expect(fs.readFileSync(path.join(fsRoot, row.storageKey!))).toEqual(png);
		expect(await storageUsed(alice.id)).toBe(before + png.length);

		const jobs = await t.db.execute<{ n: number }>(
			sql`select count(*)::int as n from pgboss.job where name = 'assets.ingest' and data->>'asset_id' = ${assetId}`
		);
		expect(jobs[0].n).toBe(1);
	});

	it('answers the existing asset for known content at init (with in_trash once it is trashed)', async () => {
		const bytes = await makePng(2);
		const { assetId } = await upload(alice, bytes);
		const dup = await init(alice, { filename: 'again.png', size_bytes: bytes.length, mime: 'image/png', sha256: sha256(bytes) });
		expect({ status: dup.status, body: dup.body }).toEqual({ status: 200, body: { asset_id: assetId, duplicate: true, in_trash: false } });

		await t.db.update(assets).set({ deletedAt: new Date() }).where(eq(assets.id, assetId));
		const trashed = await init(alice, { filename: 'again.png', size_bytes: bytes.length, mime: 'image/png', sha256: sha256(bytes).toUpperCase() });
		expect(trashed.body).toEqual({ asset_id: assetId, duplicate: true, in_trash: true });

		// Another user with the same bytes gets an upload of their own.
		expect((await init(bob, { filename: 'x.png', size_bytes: bytes.length, mime: 'image/png', sha256: sha256(bytes) })).status).toBe(201);
	});

	it('discards a new copy whose bytes duplicate an existing asset at complete', async () => {
		const bytes = await makePng(3);
		const first = await upload(alice, bytes);
		const before = await storageUsed(alice.id);
		const second = await upload(alice, bytes, 'copy.png');
		expect({ status: second.res.status, body: second.res.body }).toEqual({
			status: 200,
			body: { asset_id: first.assetId, duplicate: true, in_trash: false }
		});
		expect(await t.db.select().from(assets).where(eq(assets.id, second.assetId))).toHaveLength(0);
		expect(await storageUsed(alice.id)).toBe(before);
	});
});

describe('bad input', () => {
	it('refuses a declared size over MAX_UPLOAD_MB with 413', async () => {
		expectError(await init(alice, { filename: 'big.mp4', size_bytes: 2 * 1024 * 1024, mime: 'video/mp4' }), 'payload_too_large');
	});

	it('refuses a declared type that is not an image or video with 415, and bad fields with 400', async () => {
		expectError(await init(alice, { filename: 'notes.txt', size_bytes: 10, mime: 'text/plain' }), 'unsupported_media_type');
		expectError(await init(alice, { filename: '', size_bytes: 0, mime: 'image/png' }), 'validation_error');
		expectError(await init(alice, { filename: 'a.png', size_bytes: 10, mime: 'image/png', sha256: 'abc' }), 'validation_error');
	});

	it('refuses a PUT without the right upload token with 403', async () => {
		const started = await init(alice, { filename: 'a.png', size_bytes: png.length, mime: 'image/png' });
		const { asset_id } = started.body as { asset_id: string };
		expect((await put(asset_id, null, png)).status).toBe(403);
		expect((await put(asset_id, 'not-the-token', png)).status).toBe(403);
	});

	it('refuses a body longer than declared with 413 and keeps nothing', async () => {
		const started = await init(alice, { filename: 'a.png', size_bytes: 10, mime: 'image/png' });
		const { asset_id, upload_token } = started.body as { asset_id: string; upload_token: string };
		const res = await put(asset_id, upload_token, png);
		expect(res.status).toBe(413);
		expect(res.body).toMatchObject({ error: { code: 'payload_too_large' } });
		expect(fs.existsSync(path.join(fsRoot, 'staging', `${asset_id}.json`))).toBe(false);
		expectError(await api.post('/api/v1/uploads/complete', { asset_id }, { token: alice.token }), 'conflict');
	});

	it('answers 409 when completing before all bytes arrived', async () => {
		const started = await init(alice, { filename: 'a.png', size_bytes: png.length, mime: 'image/png' });
		const { asset_id, upload_token } = started.body as { asset_id: string; upload_token: string };
		expectError(await api.post('/api/v1/uploads/complete', { asset_id }, { token: alice.token }), 'conflict');
		await put(asset_id, upload_token, png.subarray(0, 20));
		expectError(await api.post('/api/v1/uploads/complete', { asset_id }, { token: alice.token }), 'conflict');
	});

	it('marks a text file named .jpg failed with the reason (415) and charges nothing', async () => {
		const before = await storageUsed(alice.id);
		const text = Buffer.from('this is not a picture at all, just words\n'.repeat(10));
		const { assetId, res } = await upload(alice, text, 'photo.jpg', 'image/jpeg');
		expectError(res, 'unsupported_media_type');
		const [row] = await t.db.select().from(assets).where(eq(assets.id, assetId));
		expect(row.status).toBe('failed');
		expect(row.errorMessage).toMatch(/not an accepted image or video/);
		expect(await storageUsed(alice.id)).toBe(before);
	});

	it('answers 413 quota_exceeded when the storage quota would be passed, at init and at complete', async () => {
		const carol = await registerViaApi(api);
		await t.db.update(users).set({ quotaStorageBytes: 100 }).where(eq(users.id, carol.id));
		expectError(await init(carol, { filename: 'a.png', size_bytes: png.length, mime: 'image/png' }), 'quota_exceeded');

		await t.db.update(users).set({ quotaStorageBytes: png.length * 10 }).where(eq(users.id, carol.id));
		const started = await init(carol, { filename: 'a.png', size_bytes: png.length, mime: 'image/png' });
		const { asset_id, upload_token } = started.body as { asset_id: string; upload_token: string };
		await put(asset_id, upload_token, png);
		await t.db.update(users).set({ quotaStorageBytes: 100 }).where(eq(users.id, carol.id));
		expectError(await api.post('/api/v1/uploads/complete', { asset_id }, { token: carol.token }), 'quota_exceeded');
		expect(await storageUsed(carol.id)).toBe(0);
		expect(await t.db.select().from(assets).where(eq(assets.ownerId, carol.id))).toHaveLength(0);
	});

	it("answers 404 for another user's upload and workspace", async () => {
		const started = await init(alice, { filename: 'a.png', size_bytes: png.length, mime: 'image/png' });
		const { asset_id } = started.body as { asset_id: string };
		expectError(await api.post('/api/v1/uploads/complete', { asset_id }, { token: bob.token }), 'not_found');
		expectError(
			await init(bob, { filename: 'a.png', size_bytes: 10, mime: 'image/png', workspace_id: '00000000-0000-4000-8000-000000000000' }),
			'not_found'
		);
	});
});

describe('POST /api/v1/assets/upload (multipart)', () => {
	async function multipart(user: RegisteredUser, bytes: Buffer, fields: Record<string, string> = {}, filename = 'shot.png') {
		const form = new FormData();
		for (const [k, v] of Object.entries(fields)) form.append(k, v);
		form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), filename);
		const res = await fetch(`${server.url}/api/v1/assets/upload`, {
			method: 'POST',
			headers: { authorization: `Bearer ${user.token}` },
			body: form
		});
		return { status: res.status, body: (await res.json()) as Record<string, unknown> };
	}

	it('stores a file in one request and queues it for processing', async () => {
		const bytes = await makePng(4);
		const res = await multipart(bob, bytes);
		expect(res.status).toBe(202);
		const [row] = await t.db.select().from(assets).where(eq(assets.id, res.body.asset_id as string));
		expect(row).toMatchObject({ ownerId: bob.id, status: 'processing', sha256: sha256(bytes), originalFilename: 'shot.png' });
	});

	it('answers the existing asset for duplicate content', async () => {
		const bytes = await makePng(5);
		const first = await multipart(bob, bytes);
		const again = await multipart(bob, bytes, {}, 'again.png');
		expect(again).toEqual({ status: 200, body: { asset_id: first.body.asset_id, duplicate: true, in_trash: false } });
	});

	it("refuses another user's workspace (404), a non-file form (400) and an oversize file (413), keeping nothing", async () => {
		const count = async () => (await t.db.select().from(assets).where(eq(assets.ownerId, bob.id))).length;
		const before = await count();
		const notMine = await multipart(bob, await makePng(6), { workspace_id: '00000000-0000-4000-8000-000000000000' });
		expect(notMine.status).toBe(404);
		const huge = await multipart(bob, Buffer.alloc(1024 * 1024 + 10, 1));
		expect(huge.status).toBe(413);
		const res = await fetch(`${server.url}/api/v1/assets/upload`, {
			method: 'POST',
			headers: { authorization: `Bearer ${bob.token}`, 'content-type': 'application/json' },
			body: '{}'
		});
		expect(res.status).toBe(400);
		expect(await count()).toBe(before);
	});
});
