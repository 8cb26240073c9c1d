/** One asset, trash, restore, purge with storage accounting, bulk actions and stats. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	assetStats,
	bulkUpdateAssets,
	getAsset,
	lockStorageKey,
	purgeAsset,
	purgeExpiredTrash,
	restoreAsset,
	trashAsset
} from '../../src/lib/server/assets/service';
import { assetDetailJson } from '../../src/lib/server/assets/json';
import { assets, assetVariants, users } from '../../src/lib/server/db/schema';
import { ConflictError, NotFoundError } from '../../src/lib/server/errors';
import { hashToken } from '../../src/lib/server/auth/tokens';
import { receiveUploadBytes } from '../../src/lib/server/uploads/service';
import { readStaged } from '../../src/lib/server/uploads/staging';
import { addLineage } from '../../src/lib/server/lineage/service';
import { createLocalStorage, type Storage } from '../../src/lib/server/storage/local';
import { createWorkspace } from '../../src/lib/server/workspaces/service';
import { makeAsset, makeReadyStoredAsset, makeThumb } from '../support/asset-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { makeUser } from '../support/factories';

let t: TestDatabase;
let root: string;
let storage: Storage;
beforeAll(async () => {
	t = await createTestDatabase();
	root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-assets-'));
	storage = createLocalStorage(root);
});
afterAll(async () => {
	await t.destroy();
	fs.rmSync(root, { recursive: true, force: true });
});

async function storageUsed(userId: string): Promise<number> {
	const [u] = await t.db.select({ used: users.storageBytesUsed }).from(users).where(eq(users.id, userId));
	return u.used;
}

async function setStorageUsed(userId: string, bytes: number) {
	await t.db.update(users).set({ storageBytesUsed: bytes }).where(eq(users.id, userId));
}

async function row(id: string) {
	const [r] = await t.db.select().from(assets).where(eq(assets.id, id));
	return r;
}

describe('getAsset', () => {
	it('gives thumbnail URLs by size, the poster, the file URL and lineage counts', async () => {
		const { user } = await makeUser(t.db);
		const asset = await makeAsset(t.db, user.id);
		await makeThumb(t.db, storage, asset.id, 1024);
		await makeThumb(t.db, storage, asset.id, 256);
		const parent = await makeAsset(t.db, user.id);
		const child = await makeAsset(t.db, user.id);
		await addLineage(t.db, { childAssetId: asset.id, parents: [{ assetId: parent.id, relation: 'source_image' }], operationType: 'image_to_video' });
		await addLineage(t.db, { childAssetId: child.id, parents: [{ assetId: asset.id, relation: 'source_image' }] });

		const found = await getAsset(t.db, user, asset.id);
		const json = assetDetailJson(found.asset, found.variants, found.lineage);
		expect(json.thumbnails).toEqual({ '256': `/api/v1/assets/${asset.id}/thumbs/256`, '1024': `/api/v1/assets/${asset.id}/thumbs/1024` });
		expect(json.poster).toBeNull();
		expect(json.file_url).toBe(`/api/v1/assets/${asset.id}/file`);
		expect(json.lineage).toEqual({ parents: 1, children: 1 });
		expect(json).not.toHaveProperty('storage_key');
	});

	it('lists no thumbnails before the asset is ready, and hides other users’ and purged assets', async () => {
		const { user } = await makeUser(t.db);
		const { user: mallory } = await makeUser(t.db);
		const processing = await makeAsset(t.db, user.id, { status: 'processing' });
		await makeThumb(t.db, storage, processing.id, 256);
		const found = await getAsset(t.db, user, processing.id);
		expect(assetDetailJson(found.asset, found.variants, found.lineage).thumbnails).toEqual({});
		await expect(getAsset(t.db, mallory, processing.id)).rejects.toBeInstanceOf(NotFoundError);
		const purged = await makeAsset(t.db, user.id, { purgedAt: new Date(), deletedAt: new Date() });
		await expect(getAsset(t.db, user, purged.id)).rejects.toBeInstanceOf(NotFoundError);
	});
});

describe('trash and restore', () => {
	it('trashes (keeping the first date), restores, and refuses other users', async () => {
		const { user } = await makeUser(t.db);
		const { user: mallory } = await makeUser(t.db);
		const asset = await makeAsset(t.db, user.id);
		await expect(trashAsset(t.db, mallory, asset.id)).rejects.toBeInstanceOf(NotFoundError);
		await trashAsset(t.db, user, asset.id);
		const first = (await row(asset.id)).deletedAt;
		expect(first).toBeInstanceOf(Date);
		await trashAsset(t.db, user, asset.id);
		expect((await row(asset.id)).deletedAt).toEqual(first);
		await expect(restoreAsset(t.db, mallory, asset.id)).rejects.toBeInstanceOf(NotFoundError);
		expect((await restoreAsset(t.db, user, asset.id)).asset.deletedAt).toBeNull();
	});
});

describe('purge', () => {
	it('releases the charged bytes, deletes variant rows and files, and removes the original', async () => {
		const { user } = await makeUser(t.db);
		const bytes = randomBytes(3000);
		const asset = await makeReadyStoredAsset(t.db, storage, user.id, bytes);
		const thumb = await makeThumb(t.db, storage, asset.id, 256);
		await setStorageUsed(user.id, 5000);

		await purgeAsset(t.db, storage, user, asset.id);
		expect(await storageUsed(user.id)).toBe(2000);
		const after = await row(asset.id);
		expect(after.purgedAt).toBeInstanceOf(Date);
		expect(after.deletedAt).toBeInstanceOf(Date);
		expect(after.storageBytesCharged).toBe(0);
		expect(await t.db.select().from(assetVariants).where(eq(assetVariants.assetId, asset.id))).toEqual([]);
		expect(await storage.exists(thumb.storageKey)).toBe(false);
		expect(await storage.exists(asset.storageKey!)).toBe(false);
		await expect(purgeAsset(t.db, storage, user, asset.id)).rejects.toBeInstanceOf(NotFoundError);
	});

	it('releases exactly once when the same asset is purged ten times at once', async () => {
		const { user } = await makeUser(t.db);
		const asset = await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(700));
		await setStorageUsed(user.id, 1000);
		const results = await Promise.allSettled(Array.from({ length: 10 }, () => purgeAsset(t.db, storage, user, asset.id)));
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
		for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(NotFoundError);
		expect(await storageUsed(user.id)).toBe(300);
	});

	it('keeps the counter exact under concurrent purges, trashes and restores of many assets', async () => {
		const { user } = await makeUser(t.db);
		const made = [];
		for (let i = 0; i < 20; i++) made.push(await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(100 + i)));
		const total = made.reduce((s, a) => s + a.storageBytesCharged, 0);
		await setStorageUsed(user.id, total);
		const purgedIds = made.slice(0, 12).map((a) => a.id);
		await Promise.all([
			// Twice each, plus a bulk purge of half of them: exactly one of the racers purges each.
			...purgedIds.flatMap((id) => [1, 2].map(() => purgeAsset(t.db, storage, user, id).catch(() => {}))),
			...made.slice(8).map((a) => trashAsset(t.db, user, a.id).catch(() => {})),
			bulkUpdateAssets(t.db, storage, user, { ids: purgedIds.slice(0, 6), action: 'purge' }),
			...made.slice(12, 16).map((a) => restoreAsset(t.db, user, a.id).catch(() => {}))
		]);
		const kept = made.slice(12).reduce((s, a) => s + a.storageBytesCharged, 0);
		expect(await storageUsed(user.id)).toBe(kept);
		const rows = await t.db.select().from(assets).where(inArray(assets.id, made.map((a) => a.id)));
		expect(rows.filter((r) => r.purgedAt).map((r) => r.id).sort()).toEqual([...purgedIds].sort());
	});

	it('cancels an upload still in flight: the row leaves `uploading`, so completing it finds nothing to move', async () => {
		const { user } = await makeUser(t.db);
		const uploading = await makeAsset(t.db, user.id, { status: 'uploading', storageKey: null, sha256: null, uploadTokenHash: 'h' });
		await purgeAsset(t.db, storage, user, uploading.id);
		expect(await row(uploading.id)).toMatchObject({ status: 'failed', uploadTokenHash: null, errorMessage: 'Deleted before the upload finished.' });
	});

	it('removes the bytes already staged for an upload it cancels, and a PUT still arriving leaves none behind', async () => {
		const { user } = await makeUser(t.db);
		const token = 'upload-token';
		const staged = await makeAsset(t.db, user.id, { status: 'uploading', storageKey: null, sha256: null, uploadTokenHash: hashToken(token), fileSizeBytes: 4096 });
		await receiveUploadBytes({ db: t.db, storage }, staged.id, token, Readable.from([randomBytes(4096)]));
		expect(await readStaged(storage, staged.id)).not.toBeNull();
		await purgeAsset(t.db, storage, user, staged.id);
		expect(await readStaged(storage, staged.id)).toBeNull();
		expect(fs.existsSync(storage.absolutePath(`staging/${staged.id}.bin`))).toBe(false);

		// The purge lands while the body is still streaming: the PUT finds the row gone and clears up.
		const late = await makeAsset(t.db, user.id, { status: 'uploading', storageKey: null, sha256: null, uploadTokenHash: hashToken(token), fileSizeBytes: 4096 });
		const body = (async function* () {
			yield randomBytes(2048);
			await purgeAsset(t.db, storage, user, late.id);
			yield randomBytes(2048);
		})();
		await expect(receiveUploadBytes({ db: t.db, storage }, late.id, token, body)).rejects.toBeInstanceOf(ConflictError);
		expect(fs.existsSync(storage.absolutePath(`staging/${late.id}.bin`))).toBe(false);
		expect(await readStaged(storage, late.id)).toBeNull();
	});

	it('never takes the counter below zero', async () => {
		const { user } = await makeUser(t.db);
		const asset = await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(500));
		await setStorageUsed(user.id, 100);
		await purgeAsset(t.db, storage, user, asset.id);
		expect(await storageUsed(user.id)).toBe(0);
	});

	it('keeps a shared original while another asset (of any user) still uses it', async () => {
		const { user: a } = await makeUser(t.db);
		const { user: b } = await makeUser(t.db);
		const bytes = randomBytes(1234);
		const mine = await makeReadyStoredAsset(t.db, storage, a.id, bytes);
		const theirs = await makeReadyStoredAsset(t.db, storage, b.id, bytes);
		expect(theirs.storageKey).toBe(mine.storageKey);

		await purgeAsset(t.db, storage, a, mine.id);
		expect(await storage.exists(mine.storageKey!)).toBe(true);
		await trashAsset(t.db, b, theirs.id);
		expect(await storage.exists(mine.storageKey!)).toBe(true);
		await purgeAsset(t.db, storage, b, theirs.id);
		expect(await storage.exists(mine.storageKey!)).toBe(false);
	});

	it('waits on lockStorageKey: an upload that adopts the file under the lock keeps it', async () => {
		const { user: a } = await makeUser(t.db);
		const { user: b } = await makeUser(t.db);
		const bytes = randomBytes(900);
		const mine = await makeReadyStoredAsset(t.db, storage, a.id, bytes);
		const key = mine.storageKey!;
		let release!: () => void;
		const held = new Promise<void>((r) => (release = r));
		let locked!: () => void;
		const isLocked = new Promise<void>((r) => (locked = r));
		// What the upload path should do: lock the key, find the file in place, point its row at it.
		const upload = t.db.transaction(async (tx) => {
			await lockStorageKey(tx, key);
			locked();
			await held;
			await tx.insert(assets).values({ ownerId: b.id, mediaType: 'image', mime: 'image/png', status: 'processing', storageKey: key });
		});
		await isLocked;
		const purge = purgeAsset(t.db, storage, a, mine.id);
		await new Promise((r) => setTimeout(r, 100));
		expect(await storage.exists(key)).toBe(true);
		release();
		await Promise.all([upload, purge]);
		expect(await storage.exists(key)).toBe(true);
	});

	it('purges only what sat in the trash longer than the retention', async () => {
		const { user } = await makeUser(t.db);
		const now = new Date('2030-06-01T00:00:00Z');
		const day = 24 * 60 * 60 * 1000;
		const old = await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(400), { deletedAt: new Date(now.getTime() - 31 * day) });
		const recent = await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(400), { deletedAt: new Date(now.getTime() - 29 * day) });
		const live = await makeReadyStoredAsset(t.db, storage, user.id, randomBytes(400));
		await setStorageUsed(user.id, 1200);

		const result = await purgeExpiredTrash(t.db, storage, 30, now);
		expect(result.purged).toBeGreaterThanOrEqual(1);
		expect((await row(old.id)).purgedAt).toBeInstanceOf(Date);
		expect((await row(recent.id)).purgedAt).toBeNull();
		expect((await row(live.id)).purgedAt).toBeNull();
		expect(await storageUsed(user.id)).toBe(800);
		expect(await purgeExpiredTrash(t.db, storage, 30, now)).toEqual({ purged: 0 });
	});
});

describe('bulk', () => {
	it('trashes, restores and moves only the user’s own assets and counts what changed', async () => {
		const { user } = await makeUser(t.db);
		const { user: other } = await makeUser(t.db);
		const mine = [await makeAsset(t.db, user.id), await makeAsset(t.db, user.id), await makeAsset(t.db, user.id)];
		const theirs = await makeAsset(t.db, other.id);
		const ids = [...mine.map((a) => a.id), theirs.id];

		expect(await bulkUpdateAssets(t.db, storage, user, { ids, action: 'trash' })).toEqual({ updated: 3 });
		expect(await bulkUpdateAssets(t.db, storage, user, { ids, action: 'trash' })).toEqual({ updated: 0 });
		expect((await row(theirs.id)).deletedAt).toBeNull();
		expect(await bulkUpdateAssets(t.db, storage, user, { ids: [mine[0].id], action: 'restore' })).toEqual({ updated: 1 });

		const w = await createWorkspace(t.db, user, { name: 'Target' });
		expect(await bulkUpdateAssets(t.db, storage, user, { ids, action: 'move', workspaceId: w.id })).toEqual({ updated: 3 });
		expect((await row(mine[1].id)).workspaceId).toBe(w.id);
		expect((await row(theirs.id)).workspaceId).toBeNull();
		expect(await bulkUpdateAssets(t.db, storage, user, { ids, action: 'move', workspaceId: null })).toEqual({ updated: 3 });
		expect((await row(mine[1].id)).workspaceId).toBeNull();

		const foreign = await createWorkspace(t.db, other, { name: 'Foreign' });
		await expect(bulkUpdateAssets(t.db, storage, user, { ids, action: 'move', workspaceId: foreign.id })).rejects.toBeInstanceOf(NotFoundError);

		expect(await bulkUpdateAssets(t.db, storage, user, { ids, action: 'purge' })).toEqual({ updated: 3 });
		expect((await row(theirs.id)).purgedAt).toBeNull();
	});
});

describe('stats', () => {
	it('counts live ready and processing assets per media type', async () => {
		const { user } = await makeUser(t.db);
		await makeAsset(t.db, user.id, { fileSizeBytes: 100 });
		await makeAsset(t.db, user.id, { fileSizeBytes: 50, status: 'processing' });
		await makeAsset(t.db, user.id, { mediaType: 'video', mime: 'video/mp4', fileSizeBytes: 5000 });
		await makeAsset(t.db, user.id, { fileSizeBytes: 7, status: 'failed' });
		await makeAsset(t.db, user.id, { fileSizeBytes: 7, status: 'uploading' });
		await makeAsset(t.db, user.id, { fileSizeBytes: 7, deletedAt: new Date() });
		await makeAsset(t.db, user.id, { fileSizeBytes: 7, deletedAt: new Date(), purgedAt: new Date() });
		expect(await assetStats(t.db, user)).toEqual({
			image: { count: 2, bytes: 150 },
			video: { count: 1, bytes: 5000 },
			total: { count: 3, bytes: 5150 }
		});
	});
});
