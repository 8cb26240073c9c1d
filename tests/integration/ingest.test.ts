/**
 * Ingest against a real database and real files: every accepted type becomes `ready` with its
 * variants on disk, every bad file becomes `failed` with a reason, and running it again (or twice
 * at once) leaves one set of variants.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assets, assetVariants, type User } from '../../src/lib/server/db/schema';
import { ConflictError, NotFoundError } from '../../src/lib/server/errors';
import { enqueueIngest, ingestAsset, retryIngest, type IngestContext } from '../../src/lib/server/ingest/service';
import { createBoss, ensureQueues, type PgBoss } from '../../src/lib/server/queue/boss';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { makeStoredAsset } from '../support/assets';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';
import * as make from '../support/media';

let t: TestDatabase;
let root: string;
let storage: Storage;
let ctx: IngestContext;
let owner: User;
let boss: PgBoss;

beforeAll(async () => {
	t = await createTestDatabase();
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-ingest-'));
	storage = createLocalStorage(root);
	ctx = { db: t.db, storage, config: { THUMB_SIZES: [256, 1024], FFMPEG_PATH: process.env.FFMPEG_PATH }, log: pino({ level: 'silent' }) };
	owner = (await makeUser(t.db)).user;
	boss = createBoss(t.url, 'pgboss', 'web');
	await boss.start();
	await ensureQueues(boss);
});
afterAll(async () => {
	await boss?.stop({ graceful: false, timeout: 2000 }).catch(() => {});
	await t?.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

const reload = async (id: string) => (await t.db.select().from(assets).where(eq(assets.id, id)))[0];
const variantsOf = (id: string) =>
	t.db.select().from(assetVariants).where(eq(assetVariants.assetId, id)).orderBy(assetVariants.kind, assetVariants.size);
const derivedFiles = (id: string) => {
	const dir = path.join(root, 'derived', id);
	return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};
const queuedIngests = async (id: string) =>
	(await t.sql`select name from pgboss.job where data->>'asset_id' = ${id}`).map((r) => r.name as string);

describe('ingestAsset', () => {
	it('makes a JPEG with EXIF orientation ready: dimensions rotated, WebP thumbnails on disk, a thumbhash', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpegRotated());
		const result = await ingestAsset(ctx, asset.id);
		expect(result).toMatchObject({ asset_id: asset.id, outcome: 'ready', variants: 2 });

		const row = await reload(asset.id);
		expect(row).toMatchObject({ status: 'ready', errorMessage: null, mediaType: 'image', mime: 'image/jpeg', width: 200, height: 400 });
		expect(row.placeholderHash).toMatch(/^[A-Za-z0-9+/]+=*$/);
		const variants = await variantsOf(asset.id);
		expect(variants.map((v) => [v.kind, v.size, v.format, v.width, v.height, v.storageKey])).toEqual([
			['thumb', 256, 'webp', 128, 256, `derived/${asset.id}/thumb-256.webp`],
			['thumb', 1024, 'webp', 200, 400, `derived/${asset.id}/thumb-1024.webp`]
		]);
		for (const v of variants) {
			const meta = await sharp(storage.absolutePath(v.storageKey)).metadata();
			expect([meta.format, meta.width, meta.height]).toEqual(['webp', v.width, v.height]);
			expect(v.byteSize).toBe(fs.statSync(storage.absolutePath(v.storageKey)).size);
		}
	});

	it.each([
		['PNG', make.png(300, 500), 'png', 'image/png', 300, 500],
		['WebP', make.webp(1600, 900), 'webp', 'image/webp', 1600, 900],
		['GIF', make.gif(120, 80), 'gif', 'image/gif', 120, 80]
	])('makes a %s ready', async (_name, bytes, extension, mime, width, height) => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await bytes, { extension, mime });
		expect((await ingestAsset(ctx, asset.id)).outcome).toBe('ready');
		expect(await reload(asset.id)).toMatchObject({ status: 'ready', mime, width, height });
		expect(await variantsOf(asset.id)).toHaveLength(2);
	});

	it('makes an MP4 ready: duration, dimensions, a JPEG poster and thumbnails from it', async () => {
		const bytes = fs.readFileSync(await make.mp4(root));
		const asset = await makeStoredAsset(t.db, storage, owner.id, bytes, { extension: 'mp4', mediaType: 'video', mime: 'video/mp4' });
		expect(await ingestAsset(ctx, asset.id)).toMatchObject({ outcome: 'ready', variants: 3 });
		const row = await reload(asset.id);
		expect(row).toMatchObject({ status: 'ready', mediaType: 'video', mime: 'video/mp4', width: 320, height: 240 });
		expect(row.durationSec).toBeCloseTo(2, 1);
		expect((await variantsOf(asset.id)).map((v) => [v.kind, v.size, v.format, v.width, v.height])).toEqual([
			['thumb', 256, 'webp', 256, 192],
			['thumb', 1024, 'webp', 320, 240],
			['poster', 0, 'jpeg', 320, 240]
		]);
		expect(derivedFiles(asset.id)).toEqual(['poster.jpg', 'thumb-1024.webp', 'thumb-256.webp']);
	});

	it('trusts the bytes over the declared type: a PNG uploaded as image/jpeg is recorded as PNG', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.png(10, 10), { mime: 'image/jpeg' });
		await ingestAsset(ctx, asset.id);
		expect(await reload(asset.id)).toMatchObject({ status: 'ready', mime: 'image/png' });
	});

	it.each([
		['a truncated JPEG', make.truncatedJpeg(), /could not be decoded/],
		['a text file named .jpg', Promise.resolve(make.textFile()), /not a supported image or video/],
		['a PNG declaring 100000×100000 pixels', Promise.resolve(make.pngBomb()), /megapixels allowed/]
	])('marks %s failed with the reason, makes no variants, and does not ask for a retry', async (_name, bytes, reason) => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await bytes);
		const result = await ingestAsset(ctx, asset.id); // resolves: the job is done, not retried
		expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(reason) });
		const row = await reload(asset.id);
		expect(row.status).toBe('failed');
		expect(row.errorMessage).toMatch(reason);
		expect(await variantsOf(asset.id)).toEqual([]);
		expect(derivedFiles(asset.id)).toEqual([]);
	});

	it('fails an asset whose original file has gone', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(33, 33));
		await storage.remove(asset.storageKey!);
		expect((await ingestAsset(ctx, asset.id)).outcome).toBe('failed');
		expect((await reload(asset.id)).errorMessage).toMatch(/original file is missing/);
	});

	it('throws a transient error for pg-boss to retry, and fails the asset only on the last attempt', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(34, 34));
		const diskFull: Storage = { ...storage, putDerived: () => Promise.reject(Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' })) };
		await expect(ingestAsset({ ...ctx, storage: diskFull }, asset.id)).rejects.toThrow(/ENOSPC/);
		expect((await reload(asset.id)).status).toBe('processing');

		await expect(ingestAsset({ ...ctx, storage: diskFull, attempt: { final: true } }, asset.id)).rejects.toThrow(/ENOSPC/);
		expect(await reload(asset.id)).toMatchObject({ status: 'failed', errorMessage: expect.stringMatching(/after several attempts/) });
	});
});

describe('ingest is idempotent', () => {
	it('a repeated job on a ready asset is a no-op', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(800, 600));
		await ingestAsset(ctx, asset.id);
		const before = await variantsOf(asset.id);
		expect(await ingestAsset(ctx, asset.id)).toMatchObject({ outcome: 'skipped', reason: 'status ready' });
		expect(await variantsOf(asset.id)).toEqual(before);
	});

	it('reprocessing replaces the variants in place: same rows, same files, nothing added', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(900, 300));
		await ingestAsset(ctx, asset.id);
		const before = await variantsOf(asset.id);
		const filesBefore = derivedFiles(asset.id);
		expect(await ingestAsset(ctx, asset.id, { reprocess: true })).toMatchObject({ outcome: 'ready' });
		const after = await variantsOf(asset.id);
		expect(after.map((v) => v.id)).toEqual(before.map((v) => v.id));
		expect(after.map((v) => v.storageKey)).toEqual(before.map((v) => v.storageKey));
		expect(derivedFiles(asset.id)).toEqual(filesBefore);
		expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
	});

	it('two runs at once leave one set of variants', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(500, 500));
		const results = await Promise.all([ingestAsset(ctx, asset.id), ingestAsset(ctx, asset.id)]);
		expect(results.map((r) => r.outcome)).toContain('ready');
		expect(await variantsOf(asset.id)).toHaveLength(2);
		expect(derivedFiles(asset.id)).toEqual(['thumb-1024.webp', 'thumb-256.webp']);
	});

	it('reprocessing with fewer THUMB_SIZES removes the size no longer configured, row and file', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(1200, 900));
		await ingestAsset(ctx, asset.id);
		await ingestAsset({ ...ctx, config: { ...ctx.config, THUMB_SIZES: [256] } }, asset.id, { reprocess: true });
		expect((await variantsOf(asset.id)).map((v) => v.size)).toEqual([256]);
		expect(derivedFiles(asset.id)).toEqual(['thumb-256.webp']);
	});

	it('an asset purged while its thumbnails were being made keeps no variants, rows or files', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(300, 200));
		const purgeMidway: Storage = {
			...storage,
			async putDerived(key, bytes) {
				await storage.putDerived(key, bytes);
				await t.db.update(assets).set({ purgedAt: new Date() }).where(eq(assets.id, asset.id));
			}
		};
		expect(await ingestAsset({ ...ctx, storage: purgeMidway }, asset.id)).toMatchObject({ outcome: 'skipped' });
		expect(await variantsOf(asset.id)).toEqual([]);
		expect(derivedFiles(asset.id)).toEqual([]);
	});

	it('skips an asset purged or still uploading', async () => {
		const purged = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(20, 21), { purgedAt: new Date() });
		const uploading = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(20, 22), { status: 'uploading' });
		expect(await ingestAsset(ctx, purged.id)).toMatchObject({ outcome: 'skipped', reason: 'purged' });
		expect(await ingestAsset(ctx, uploading.id)).toMatchObject({ outcome: 'skipped', reason: 'status uploading' });
		expect(await ingestAsset(ctx, '00000000-0000-4000-8000-000000000000')).toMatchObject({ outcome: 'skipped', reason: 'missing' });
	});
});

describe('retryIngest and enqueueIngest', () => {
	it('puts a failed asset back to processing and queues it, in one transaction', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(40, 40), { status: 'failed', errorMessage: 'boom' });
		const retried = await retryIngest(t.db, boss, owner.id, asset.id);
		expect(retried).toMatchObject({ id: asset.id, status: 'processing', errorMessage: null });
		expect(await queuedIngests(asset.id)).toEqual(['assets.ingest']);
		// Pressing Retry again while it is processing changes nothing and queues nothing more.
		expect((await retryIngest(t.db, boss, owner.id, asset.id)).status).toBe('processing');
		expect(await queuedIngests(asset.id)).toEqual(['assets.ingest']);
	});

	it("answers NotFoundError for another user's asset, and leaves it failed", async () => {
		const other = (await makeUser(t.db)).user;
		const asset = await makeStoredAsset(t.db, storage, other.id, await make.jpeg(41, 41), { status: 'failed', errorMessage: 'boom' });
		await expect(retryIngest(t.db, boss, owner.id, asset.id)).rejects.toBeInstanceOf(NotFoundError);
		expect((await reload(asset.id)).status).toBe('failed');
		expect(await queuedIngests(asset.id)).toEqual([]);
	});

	it('refuses a failed asset whose bytes were never stored', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(42, 42), { status: 'failed', storageKey: null });
		await expect(retryIngest(t.db, boss, owner.id, asset.id)).rejects.toBeInstanceOf(ConflictError);
	});

	it('enqueues with the transaction: a rollback leaves no job', async () => {
		const asset = await makeStoredAsset(t.db, storage, owner.id, await make.jpeg(43, 43));
		await t.db
			.transaction(async (tx) => {
				await enqueueIngest(boss, asset.id, { tx });
				throw new Error('rollback');
			})
			.catch(() => {});
		expect(await queuedIngests(asset.id)).toEqual([]);
		await t.db.transaction((tx) => enqueueIngest(boss, asset.id, { tx, reprocess: true }));
		expect(await queuedIngests(asset.id)).toEqual(['assets.reprocess']);
	});
});

it('leaves no temporary files behind', () => {
	const tmp = path.join(root, 'tmp');
	expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([]);
});
