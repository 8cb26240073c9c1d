/**
 * The upload paths into the asset pipeline: init → PUT bytes → complete (scripts), and the
 * one-request multipart form (also taken by a video's frame made into an image, assets/frames.ts). Every path ends in `finishUpload`, which stores the bytes, charges
 * the storage quota and enqueues ingest in one transaction with the asset row.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { and, eq, isNull, ne } from 'drizzle-orm';
import { ACCEPTED_MIME_TYPES } from '../../schemas/uploads';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { uniqueViolation } from '../db/errors';
import { assets, type Asset, type User } from '../db/schema';
import {
	ConflictError,
	ForbiddenError,
	NotFoundError,
	PayloadTooLargeError,
	QuotaExceededError,
	UnsupportedMediaTypeError
} from '../errors';
import { generateToken, hashToken } from '../auth/tokens';
import { sniffFile } from '../media';
import { enqueueIngest } from '../ingest/service';
import { assertOwnWorkspace } from '../workspaces/service';
import type { PgBoss } from '../queue/boss';
import { originalKey, TooLargeError, type Storage } from '../storage/local';
import { lockStorageKey } from '../assets/service';
import { effectiveQuotas, recordAssetUsage, tryReserveStorage, type QuotaDefaults } from '../users/quotas';
import { clearStaged, readStaged, stageBytes, stageFile, type Staged } from './staging';

export type UploadConfig = QuotaDefaults & Pick<Config, 'MAX_UPLOAD_MB'>;

export interface UploadDeps {
	db: Db;
	boss: PgBoss;
	storage: Storage;
	config: UploadConfig;
}

export type DuplicateOf = { duplicate: true; assetId: string; inTrash: boolean };

/**
 * Rows that belong with a new asset (a frame's lineage edge), written in the transaction that
 * creates it, so the asset never exists without them. Not called for a duplicate.
 */
export type LinkNewAsset = (tx: DbOrTx, asset: Asset) => Promise<void>;

const maxBytes = (cfg: UploadConfig) => cfg.MAX_UPLOAD_MB * 1024 * 1024;

/** Filenames are metadata: keep the last path segment, printable, bounded. */
export function cleanFilename(name: string): string {
	const base = path.posix.basename(name.replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').trim();
	return (base || 'upload').slice(0, 255);
}

function mediaTypeOf(mime: string): 'image' | 'video' {
	return mime.startsWith('video/') ? 'video' : 'image';
}

async function findDuplicate(db: DbOrTx, ownerId: string, sha256: string, exceptId?: string): Promise<DuplicateOf | null> {
	const [hit] = await db
		.select({ id: assets.id, deletedAt: assets.deletedAt })
		.from(assets)
		.where(
			and(
				eq(assets.ownerId, ownerId),
				eq(assets.sha256, sha256),
				isNull(assets.purgedAt),
				ne(assets.status, 'failed'),
				exceptId ? ne(assets.id, exceptId) : undefined
			)
		)
		.limit(1);
	return hit ? { duplicate: true, assetId: hit.id, inTrash: hit.deletedAt !== null } : null;
}

function assertSizeAllowed(size: number, user: User, cfg: UploadConfig): void {
	if (size > maxBytes(cfg)) {
		throw new PayloadTooLargeError(`Uploads are limited to ${cfg.MAX_UPLOAD_MB} MiB.`, { max_bytes: maxBytes(cfg) });
	}
	const quota = effectiveQuotas(user, cfg).storageBytes;
	if (user.storageBytesUsed + size > quota) {
		throw new QuotaExceededError('This file would exceed your storage quota.', 413, {
			quota: 'storage_bytes',
			limit: quota,
			used: user.storageBytesUsed
		});
	}
}

/** Whether the user already has this content: the browser asks before sending a byte. */
export async function findExistingContent(db: Db, user: User, sha256: string): Promise<DuplicateOf | null> {
	return findDuplicate(db, user.id, sha256);
}

/**
 * Refuses, before any byte is sent, an upload that cannot succeed: too large, over the storage
 * quota, or into a workspace that is not the user's. The checks run again when the bytes arrive.
 */
export async function assertUploadAllowed(
	db: Db,
	user: User,
	input: { size: number; workspaceId?: string | null },
	cfg: UploadConfig
): Promise<void> {
	assertSizeAllowed(input.size, user, cfg);
	if (input.workspaceId) await assertOwnWorkspace(db, user.id, input.workspaceId);
}

export interface InitInput {
	filename: string;
	size_bytes: number;
	mime: string;
	workspace_id?: string | null;
	sha256?: string;
}

/** Step 1: a row in `uploading` and a token for the bytes, or the existing asset with that content. */
export async function initUpload(
	db: Db,
	user: User,
	input: InitInput,
	cfg: UploadConfig
): Promise<DuplicateOf | { duplicate: false; asset: Asset; uploadToken: string }> {
	if (!(ACCEPTED_MIME_TYPES as readonly string[]).includes(input.mime)) {
		throw new UnsupportedMediaTypeError(`${input.mime} is not an accepted image or video type.`, {
			accepted: ACCEPTED_MIME_TYPES
		});
	}
	if (input.sha256) {
		const duplicate = await findDuplicate(db, user.id, input.sha256);
		if (duplicate) return duplicate;
	}
	assertSizeAllowed(input.size_bytes, user, cfg);
	if (input.workspace_id) await assertOwnWorkspace(db, user.id, input.workspace_id);

	const uploadToken = generateToken();
	const [asset] = await db
		.insert(assets)
		.values({
			ownerId: user.id,
			workspaceId: input.workspace_id ?? null,
			mediaType: mediaTypeOf(input.mime),
			mime: input.mime,
			status: 'uploading',
			fileSizeBytes: input.size_bytes,
			originalFilename: cleanFilename(input.filename),
			uploadTokenHash: hashToken(uploadToken)
		})
		.returning();
	return { duplicate: false, asset, uploadToken };
}

/**
 * Step 2: the bytes, streamed to staging while hashed, never held in memory. Authorised by the
 * upload token alone (like a signed URL), so a script may hand it to another process.
 */
export async function receiveUploadBytes(
	deps: Pick<UploadDeps, 'db' | 'storage'>,
	assetId: string,
	uploadToken: string | null,
	body: Readable | AsyncIterable<Uint8Array>
): Promise<Staged> {
	const [asset] = await deps.db.select().from(assets).where(eq(assets.id, assetId));
	if (!asset || !uploadToken || asset.uploadTokenHash !== hashToken(uploadToken)) {
		throw new ForbiddenError('A valid X-Upload-Token for this upload is required.');
	}
	if (asset.status !== 'uploading') throw new ConflictError('This upload is already complete.');
	try {
		const staged = await stageBytes(deps.storage, asset.id, body, asset.fileSizeBytes ?? 0);
		// Purged (or failed) while the bytes were arriving: the purge found nothing staged yet, so
		// the bytes go here.
		const [now] = await deps.db.select({ status: assets.status, purgedAt: assets.purgedAt }).from(assets).where(eq(assets.id, asset.id));
		if (!now || now.status !== 'uploading' || now.purgedAt) {
			await clearStaged(deps.storage, asset.id);
			throw new ConflictError('This upload was deleted while its bytes were arriving.');
		}
		return staged;
	} catch (err) {
		if (err instanceof TooLargeError) {
			throw new PayloadTooLargeError(`The body is larger than the declared ${asset.fileSizeBytes} bytes.`, {
				declared_bytes: asset.fileSizeBytes
			});
		}
		throw err;
	}
}

/** Step 3: check what arrived, then store it and hand it to ingest. */
export async function completeUpload(
	deps: UploadDeps,
	user: User,
	assetId: string
): Promise<DuplicateOf | { duplicate: false; asset: Asset }> {
	const [asset] = await deps.db
		.select()
		.from(assets)
		.where(and(eq(assets.id, assetId), eq(assets.ownerId, user.id), isNull(assets.purgedAt)));
	if (!asset) throw new NotFoundError('Upload');
	if (asset.status !== 'uploading') throw new ConflictError(`This upload is already ${asset.status}.`);
	const staged = await readStaged(deps.storage, asset.id);
	if (!staged || staged.size < (asset.fileSizeBytes ?? 0)) {
		throw new ConflictError('Not all bytes have arrived: PUT the whole file before completing.', {
			received_bytes: [String(staged?.size ?? 0)],
			declared_bytes: [String(asset.fileSizeBytes ?? 0)]
		});
	}
	return finishUpload(deps, user, asset, staged);
}

async function finishUpload(
	deps: UploadDeps,
	user: User,
	asset: Asset,
	staged: Staged,
	link?: LinkNewAsset
): Promise<DuplicateOf | { duplicate: false; asset: Asset }> {
	const { db, storage, boss, config: cfg } = deps;
	const kind = await sniffFile(staged.tempPath);
	if (!kind) {
		await clearStaged(storage, asset.id);
		const reason = 'The file is not an accepted image or video (its content does not match any supported format).';
		await db
			.update(assets)
			.set({ status: 'failed', errorMessage: reason, uploadTokenHash: null, updatedAt: new Date() })
			.where(eq(assets.id, asset.id));
		throw new UnsupportedMediaTypeError(reason, { asset_id: asset.id });
	}

	const duplicate = await findDuplicate(db, user.id, staged.sha256, asset.id);
	if (duplicate) {
		await discardUpload(db, storage, asset.id);
		return duplicate;
	}

	const storageKey = originalKey(staged.sha256, kind.extension);
	const quota = effectiveQuotas(user, cfg).storageBytes;
	try {
		const updated = await db.transaction(async (tx) => {
			// Under the key's lock a purge of another asset with the same bytes cannot delete the
			// shared file between putting it in place and this row referring to it.
			await lockStorageKey(tx, storageKey);
			await storage.commitOriginal(staged, kind.extension);
			await storage.remove(`staging/${asset.id}.json`);
			if (!(await tryReserveStorage(tx, user.id, staged.size, quota))) {
				throw new QuotaExceededError('This file would exceed your storage quota.', 413, {
					quota: 'storage_bytes',
					limit: quota
				});
			}
			const [row] = await tx
				.update(assets)
				.set({
					status: 'processing',
					sha256: staged.sha256,
					storageKey,
					fileSizeBytes: staged.size,
					storageBytesCharged: staged.size,
					mime: kind.mime,
					mediaType: kind.mediaType,
					uploadTokenHash: null,
					updatedAt: new Date()
				})
				.where(and(eq(assets.id, asset.id), eq(assets.status, 'uploading'), isNull(assets.purgedAt)))
				.returning();
			if (!row) throw new ConflictError('This upload was completed or removed by another request.');
			await recordAssetUsage(tx, user.id, 1, staged.size);
			// Enqueued in the same transaction: the job exists exactly when the row says processing.
			await enqueueIngest(boss, row.id, { tx });
			if (link) await link(tx, row);
			return row;
		});
		return { duplicate: false, asset: updated };
	} catch (err) {
		await removeIfUnreferenced(db, storage, storageKey);
		if (uniqueViolation(err) !== null) {
			// The same bytes finished in a concurrent upload a moment ago: that asset wins.
			const winner = await findDuplicate(db, user.id, staged.sha256, asset.id);
			await discardUpload(db, storage, asset.id);
			if (winner) return winner;
		}
		if (err instanceof QuotaExceededError) await discardUpload(db, storage, asset.id);
		throw err;
	}
}

/** Drops an upload that will not become an asset: its staging files and its row. */
async function discardUpload(db: DbOrTx, storage: Storage, assetId: string): Promise<void> {
	await clearStaged(storage, assetId);
	await db.delete(assets).where(and(eq(assets.id, assetId), eq(assets.status, 'uploading')));
}

async function removeIfUnreferenced(db: Db, storage: Storage, storageKey: string): Promise<void> {
	await db.transaction(async (tx) => {
		await lockStorageKey(tx, storageKey);
		const [used] = await tx
			.select({ id: assets.id })
			.from(assets)
			.where(and(eq(assets.storageKey, storageKey), isNull(assets.purgedAt)))
			.limit(1);
		if (!used) await storage.remove(storageKey);
	});
}

/**
 * The one-request path: a streamed multipart file becomes an upload and is completed at once.
 * `fields` resolves once the whole form is parsed (a field may follow the file in the body).
 */
export async function uploadFile(
	deps: UploadDeps,
	user: User,
	file: { filename: string; declaredMime: string; stream: Readable },
	fields: () => Promise<{ workspace_id?: string | null }>,
	link?: LinkNewAsset
): Promise<DuplicateOf | { duplicate: false; asset: Asset }> {
	return uploadAndFinish(deps, user, file, (assetId) => stageBytes(deps.storage, assetId, file.stream, maxBytes(deps.config)), fields, link);
}

/**
 * A file already on this disk (a finished resumable upload) becomes an asset through the same
 * staging and `finishUpload` as the other paths, linked rather than copied when it can be. The
 * caller removes its file afterwards.
 */
export async function uploadFromFile(
	deps: UploadDeps,
	user: User,
	file: { path: string; filename: string; declaredMime: string; workspaceId?: string | null }
): Promise<DuplicateOf | { duplicate: false; asset: Asset }> {
	return uploadAndFinish(
		deps,
		user,
		file,
		(assetId) => stageFile(deps.storage, assetId, file.path, maxBytes(deps.config)),
		async () => ({ workspace_id: file.workspaceId ?? null })
	);
}

async function uploadAndFinish(
	deps: UploadDeps,
	user: User,
	file: { filename: string; declaredMime: string },
	stage: (assetId: string) => Promise<Staged>,
	fields: () => Promise<{ workspace_id?: string | null }>,
	link?: LinkNewAsset
): Promise<DuplicateOf | { duplicate: false; asset: Asset }> {
	const cfg = deps.config;
	const mime = (ACCEPTED_MIME_TYPES as readonly string[]).includes(file.declaredMime) ? file.declaredMime : 'image/jpeg';
	const [asset] = await deps.db
		.insert(assets)
		.values({ ownerId: user.id, mediaType: mediaTypeOf(mime), mime, status: 'uploading', originalFilename: cleanFilename(file.filename) })
		.returning();
	let staged: Staged;
	try {
		staged = await stage(asset.id);
		assertSizeAllowed(staged.size, user, cfg);
		const { workspace_id } = await fields();
		if (workspace_id) await assertOwnWorkspace(deps.db, user.id, workspace_id);
		await deps.db
			.update(assets)
			.set({ workspaceId: workspace_id ?? null, fileSizeBytes: staged.size })
			.where(eq(assets.id, asset.id));
	} catch (err) {
		await discardUpload(deps.db, deps.storage, asset.id);
		if (err instanceof TooLargeError) {
			throw new PayloadTooLargeError(`Uploads are limited to ${cfg.MAX_UPLOAD_MB} MiB.`, { max_bytes: maxBytes(cfg) });
		}
		throw err;
	}
	return finishUpload(deps, user, asset, staged, link);
}
