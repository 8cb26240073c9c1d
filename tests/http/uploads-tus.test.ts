/**
 * Resumable uploads with a real tus client (tus-js-client in Node) against the built app: the
 * finished upload goes through the same completion as the other paths and answers the asset in
 * the final PATCH's headers.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { DetailedError, Upload, type HttpResponse, type UploadOptions } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets, users } from '../../src/lib/server/db/schema';
import { startAppServer, type AppServer } from '../support/app-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ApiClient, registerViaApi, type RegisteredUser } from '../support/http';
import { expectNoServerErrors } from '../support/logs';

let t: TestDatabase;
let server: AppServer;
let api: ApiClient;
let fsRoot: string;
let alice: RegisteredUser;
let bob: RegisteredUser;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const endpoint = () => `${server.url}/api/v1/uploads/tus`;

/** Random pixels do not compress: a PNG of about `bytes`. */
async function noisyPng(bytes: number, seed = 0): Promise<Buffer> {
	const side = Math.ceil(Math.sqrt(bytes / 3));
	const raw = Buffer.alloc(side * side * 3);
	let x = 2463534242 + seed;
	for (let i = 0; i < raw.length; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		raw[i] = x & 0xff;
	}
	return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

beforeAll(async () => {
	t = await createTestDatabase();
	fsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-tus-'));
	server = await startAppServer(t.url, { FS_ROOT: fsRoot, MAX_UPLOAD_MB: '2' });
	api = new ApiClient(server.url);
	alice = await registerViaApi(api);
	bob = await registerViaApi(api);
});
afterAll(async () => {
	expectNoServerErrors(server?.output() ?? '');
	await server?.stop();
	await t?.destroy();
	fs.rmSync(fsRoot, { recursive: true, force: true });
});

interface Finished {
	assetId: string | undefined;
	duplicate: boolean;
	response: HttpResponse;
}

function tusOptions(user: RegisteredUser | null, bytes: Buffer, filename: string, extra: Record<string, string> = {}): UploadOptions {
	return {
		endpoint: endpoint(),
		headers: user ? { authorization: `Bearer ${user.token}` } : undefined,
		metadata: { filename, filetype: 'image/png', ...extra },
		uploadSize: bytes.length,
		retryDelays: null
	};
}

/** A whole upload with tus-js-client; rejects with its DetailedError on failure. */
function tusUpload(
	user: RegisteredUser | null,
	bytes: Buffer,
	options: { filename?: string; chunkSize?: number; uploadUrl?: string; metadata?: Record<string, string> } = {}
): Promise<Finished> {
	return new Promise((resolve, reject) => {
		const upload = new Upload(bytes, {
			...tusOptions(user, bytes, options.filename ?? 'picture.png', options.metadata),
			// tus-js-client takes an option given as undefined literally: pass only those that are set.
			...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
			...(options.uploadUrl ? { uploadUrl: options.uploadUrl } : {}),
			onSuccess: ({ lastResponse }) =>
				resolve({
					assetId: lastResponse.getHeader('Upload-Asset-Id'),
					duplicate: lastResponse.getHeader('Upload-Duplicate') === 'true',
					response: lastResponse
				}),
			onError: reject
		});
		upload.start();
	});
}

async function failure(promise: Promise<unknown>): Promise<{ status: number; body: string }> {
	const err = await promise.then(
		() => null,
		(e: unknown) => e
	);
	expect(err).toBeInstanceOf(DetailedError);
	const res = (err as DetailedError).originalResponse;
	expect(res).not.toBeNull();
	return { status: res!.getStatus(), body: res!.getBody() };
}

async function head(user: RegisteredUser | null, uploadUrl: string) {
	const headers: Record<string, string> = { 'tus-resumable': '1.0.0' };
	if (user) headers.authorization = `Bearer ${user.token}`;
	return fetch(uploadUrl, { method: 'HEAD', headers });
}

async function storageUsed(userId: string): Promise<number> {
	const [u] = await t.db.select({ used: users.storageBytesUsed }).from(users).where(eq(users.id, userId));
	return u.used;
}

const tusFiles = () => (fs.existsSync(path.join(fsRoot, 'tus')) ? fs.readdirSync(path.join(fsRoot, 'tus')) : []);

describe('tus uploads', () => {
	it('uploads a file and answers the new asset in the final response', async () => {
		const bytes = await noisyPng(200_000, 1);
		const done = await tusUpload(alice, bytes, { filename: 'holiday.png' });
		expect(done.duplicate).toBe(false);
		expect(done.response.getHeader('Upload-Asset-Status')).toBe('processing');
		const [row] = await t.db.select().from(assets).where(eq(assets.id, done.assetId!));
		expect(row).toMatchObject({ ownerId: alice.id, status: 'processing', sha256: sha256(bytes), fileSizeBytes: bytes.length, originalFilename: 'holiday.png' });
		expect(fs.readFileSync(path.join(fsRoot, row.storageKey!))).toEqual(bytes);
		// The tus copy is gone once the asset has the bytes.
		expect(tusFiles()).toEqual([]);
	});

	it('resumes an interrupted upload from the offset the server reports', async () => {
		const bytes = await noisyPng(1024 * 1024, 2);
		const chunkSize = 64 * 1024;
		const uploadUrl = await new Promise<string>((resolve, reject) => {
			let chunks = 0;
			const upload = new Upload(bytes, {
				...tusOptions(alice, bytes, 'resumed.png'),
				chunkSize,
				onChunkComplete: () => {
					if (++chunks === 4) void upload.abort().then(() => resolve(upload.url!));
				},
				onSuccess: () => reject(new Error('The upload should have been interrupted')),
				onError: reject
			});
			upload.start();
		});

		const status = await head(alice, uploadUrl);
		expect(status.status).toBe(200);
		const offset = Number(status.headers.get('upload-offset'));
		expect(offset).toBeGreaterThanOrEqual(4 * chunkSize);
		expect(offset).toBeLessThan(bytes.length);
		expect(Number(status.headers.get('upload-length'))).toBe(bytes.length);

		// A new client, as after a reload: it asks for the offset and sends only the rest.
		const patchOffsets: number[] = [];
		const done = await new Promise<Finished>((resolve, reject) => {
			const upload = new Upload(bytes, {
				...tusOptions(alice, bytes, 'resumed.png'),
				chunkSize,
				uploadUrl,
				onBeforeRequest: (req) => {
					if (req.getMethod() === 'PATCH') patchOffsets.push(Number(req.getHeader('Upload-Offset')));
				},
				onSuccess: ({ lastResponse }) =>
					resolve({ assetId: lastResponse.getHeader('Upload-Asset-Id'), duplicate: false, response: lastResponse }),
				onError: reject
			});
			upload.start();
		});
		expect(patchOffsets[0]).toBe(offset);
		expect(patchOffsets).toHaveLength(Math.ceil((bytes.length - offset) / chunkSize));
		const [row] = await t.db.select().from(assets).where(eq(assets.id, done.assetId!));
		expect(row).toMatchObject({ status: 'processing', sha256: sha256(bytes), fileSizeBytes: bytes.length });
		expect(fs.readFileSync(path.join(fsRoot, row.storageKey!))).toEqual(bytes);
	});

	it('answers the existing asset for content the user already has, and charges nothing', async () => {
		const bytes = await noisyPng(50_000, 3);
		const first = await tusUpload(alice, bytes);
		const before = await storageUsed(alice.id);
		const again = await tusUpload(alice, bytes, { filename: 'copy.png' });
		expect(again).toMatchObject({ assetId: first.assetId, duplicate: true });
		expect(again.response.getHeader('Upload-In-Trash')).toBe('false');
		expect(await storageUsed(alice.id)).toBe(before);
		expect(await t.db.select().from(assets).where(eq(assets.originalFilename, 'copy.png'))).toHaveLength(0);

		// The browser's question before sending: the same answer, nothing created.
		const exists = await api.get(`/api/v1/uploads/exists?sha256=${sha256(bytes)}`, { token: alice.token });
		expect(exists.body).toEqual({ exists: true, asset_id: first.assetId, in_trash: false });
		expect((await api.get(`/api/v1/uploads/exists?sha256=${sha256(bytes)}`, { token: bob.token })).body).toEqual({ exists: false });
		expect((await api.get('/api/v1/uploads/exists?sha256=abc', { token: alice.token })).status).toBe(400);
		expect((await api.get(`/api/v1/uploads/exists?sha256=${sha256(bytes)}`, { token: null })).status).toBe(401);
	});

	it("answers 404 for another user's upload URL", async () => {
		const bytes = await noisyPng(300_000, 4);
		const uploadUrl = await new Promise<string>((resolve, reject) => {
			const upload = new Upload(bytes, {
				...tusOptions(alice, bytes, 'mine.png'),
				chunkSize: 64 * 1024,
				onChunkComplete: () => void upload.abort().then(() => resolve(upload.url!)),
				onError: reject
			});
			upload.start();
		});
		expect((await head(bob, uploadUrl)).status).toBe(404);
		const patched = await fetch(uploadUrl, {
			method: 'PATCH',
			headers: {
				authorization: `Bearer ${bob.token}`,
				'tus-resumable': '1.0.0',
				'upload-offset': '65536',
				'content-type': 'application/offset+octet-stream'
			},
			body: new Uint8Array(bytes.subarray(65536, 70000))
		});
		expect(patched.status).toBe(404);
		expect(await patched.json()).toMatchObject({ error: { code: 'not_found' } });
		const deleted = await fetch(uploadUrl, { method: 'DELETE', headers: { authorization: `Bearer ${bob.token}`, 'tus-resumable': '1.0.0' } });
		expect(deleted.status).toBe(404);
		expect((await head(alice, uploadUrl)).status).toBe(200);

		// Left unfinished for more than a day, it has expired: 410, and the client starts afresh.
		const record = path.join(fsRoot, 'tus', `${uploadUrl.split('/').pop()}.json`);
		const info = JSON.parse(fs.readFileSync(record, 'utf8')) as { creation_date: string };
		info.creation_date = new Date(Date.now() - 25 * 3600 * 1000).toISOString();
		fs.writeFileSync(record, JSON.stringify(info));
		expect((await head(alice, uploadUrl)).status).toBe(410);
	});

	it('answers 401 without a session or token', async () => {
		const bytes = await noisyPng(10_000, 5);
		expect((await failure(tusUpload(null, bytes))).status).toBe(401);
	});

	it('refuses a file over MAX_UPLOAD_MB with 413 before any byte is sent', async () => {
		const before = tusFiles();
		const bytes = Buffer.alloc(2 * 1024 * 1024 + 1, 7);
		const res = await failure(tusUpload(alice, bytes));
		expect(res.status).toBe(413);
		expect(tusFiles()).toEqual(before);
	});

	it('marks a text file failed and answers 415 with the reason, charging nothing', async () => {
		const before = await storageUsed(alice.id);
		const tusBefore = tusFiles();
		const text = Buffer.from('this is not a picture at all, just words\n'.repeat(20));
		const res = await failure(tusUpload(alice, text, { filename: 'notes.png' }));
		expect(res.status).toBe(415);
		const body = JSON.parse(res.body) as { error: { code: string; details: { asset_id: string } } };
		expect(body.error.code).toBe('unsupported_media_type');
		const [row] = await t.db.select().from(assets).where(eq(assets.id, body.error.details.asset_id));
		expect(row).toMatchObject({ status: 'failed', originalFilename: 'notes.png' });
		expect(row.errorMessage).toMatch(/not an accepted image or video/);
		expect(await storageUsed(alice.id)).toBe(before);
		expect(tusFiles()).toEqual(tusBefore);
	});

	it("refuses another user's workspace with 404 at creation", async () => {
		const bytes = await noisyPng(10_000, 6);
		const ws = await api.post('/api/v1/workspaces', { name: 'Bob’s' }, { token: bob.token });
		expect(ws.status).toBe(201);
		const res = await failure(tusUpload(alice, bytes, { metadata: { workspace_id: (ws.body as { id: string }).id } }));
		expect(res.status).toBe(404);
		const mine = await api.post('/api/v1/workspaces', { name: 'Alice’s' }, { token: alice.token });
		const done = await tusUpload(alice, bytes, { metadata: { workspace_id: (mine.body as { id: string }).id } });
		const [row] = await t.db.select().from(assets).where(eq(assets.id, done.assetId!));
		expect(row.workspaceId).toBe((mine.body as { id: string }).id);
	});

	it('is documented in the OpenAPI document', async () => {
		const doc = (await api.get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
		expect(Object.keys(doc.paths['/api/v1/uploads/tus'] ?? {}).sort()).toEqual(['options', 'post']);
		expect(Object.keys(doc.paths['/api/v1/uploads/tus/{id}'] ?? {}).sort()).toEqual(['delete', 'head', 'options', 'patch']);
		expect(Object.keys(doc.paths['/api/v1/uploads/exists'] ?? {})).toEqual(['get']);
	});
});
