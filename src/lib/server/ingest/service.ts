/**
 * Ingest: from a stored original to a `ready` asset. Verifies the type from the bytes, reads the
 * size (and duration), writes thumbnails (and a video poster) to storage, records them as
 * variants and the placeholder hash on the asset. Idempotent: derived keys are fixed per asset and
 * variant rows are upserted, so a repeated run replaces rather than adds.
 *
 * Errors come in two kinds. The file's fault (MediaContentError): the asset is marked `failed`
 * with a message for its owner and the job succeeds, since retrying cannot help. Anything else
 * (database, disk) is thrown so pg-boss retries with backoff; on the last attempt the asset is
 * marked failed too, so nothing stays `processing` forever.
 */
import { and, eq, inArray, isNull, notInArray, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { Db, DbOrTx } from '../db/client';
import { uniqueViolation } from '../db/errors';
import { assets, assetVariants, type Asset } from '../db/schema';
import { ConflictError, NotFoundError } from '../errors';
import type { Logger } from '../logger';
import { deriveMedia, MediaContentError, resolveFfmpegPath, type MediaDerivatives, type RenderedImage } from '../media';
import { enqueue, type PgBoss } from '../queue/boss';
import { publishAssetStatus } from '../events/asset-events';
import type { Storage } from '../storage/local';

export interface IngestContext {
	db: Db;
	storage: Storage;
	config: Pick<Config, 'THUMB_SIZES' | 'FFMPEG_PATH'>;
	log: Logger;
	/** The queue's attempt; on the final one a transient error fails the asset rather than leaving it processing. */
	attempt?: { final: boolean };
	/** Where media is derived: the worker's low-priority helper process (media/helper-client.ts); default in this process. */
	derive?: typeof deriveMedia;
}

export type IngestOutcome = 'ready' | 'failed' | 'skipped';

export interface IngestResult extends Record<string, unknown> {
	asset_id: string;
	outcome: IngestOutcome;
	reason?: string;
}

/** Where an asset's derived files live: fixed per asset, so a second run overwrites the first. */
export function derivedKey(assetId: string, name: string): string {
	return `derived/${assetId}/${name}`;
}

const GIVE_UP_MESSAGE = 'Processing failed after several attempts. Try again later.';

export async function ingestAsset(ctx: IngestContext, assetId: string, options: { reprocess?: boolean } = {}): Promise<IngestResult> {
	const started = Date.now();
	const log = ctx.log.child({ asset_id: assetId });
	const [asset] = await ctx.db.select().from(assets).where(eq(assets.id, assetId));
	const skip = (reason: string): IngestResult => {
		log.info({ reason }, 'ingest:skipped');
		return { asset_id: assetId, outcome: 'skipped', reason };
	};
	if (!asset) return skip('missing');
	if (asset.purgedAt) return skip('purged');
	// A fresh ingest runs on `processing` only: `ready` means a repeated job (a no-op), `failed` waits
	// for the owner's Retry, `uploading` has no bytes yet. Reprocessing takes ready and failed assets.
	const runnable: Asset['status'][] = options.reprocess ? ['processing', 'ready', 'failed'] : ['processing'];
	if (!runnable.includes(asset.status)) return skip(`status ${asset.status}`);

	try {
		if (!asset.storageKey || !(await ctx.storage.exists(asset.storageKey))) {
			throw new MediaContentError('The original file is missing; upload it again.');
		}
		const media = await (ctx.derive ?? deriveMedia)(ctx.storage.absolutePath(asset.storageKey), {
			sizes: ctx.config.THUMB_SIZES,
			ffmpegPath: resolveFfmpegPath(ctx.config.FFMPEG_PATH)
		});
		const stored = await storeVariants(ctx, asset, media, runnable);
		if (!stored) return skip('changed during ingest');
		log.info(
			{
				media_type: media.type.mediaType,
				mime: media.type.mime,
				width: media.width,
				height: media.height,
				duration_sec: media.durationSec,
				variants: stored,
				duration_ms: Date.now() - started
			},
			'ingest:ready'
		);
		return { asset_id: assetId, outcome: 'ready', variants: stored };
	} catch (err) {
		if (err instanceof MediaContentError) {
			await markFailed(ctx.db, assetId, err.message, runnable);
			log.warn({ reason: err.message, duration_ms: Date.now() - started }, 'ingest:failed');
			return { asset_id: assetId, outcome: 'failed', reason: err.message };
		}
		if (ctx.attempt?.final) {
			await markFailed(ctx.db, assetId, GIVE_UP_MESSAGE, runnable).catch(() => {});
			log.error({ err }, 'ingest:gave-up');
		}
		throw err;
	}
}

/** Writes the files, then records them and the asset's metadata in one transaction; the number of variants, or null if the asset changed meanwhile. */
async function storeVariants(ctx: IngestContext, asset: Asset, media: MediaDerivatives, runnable: Asset['status'][]): Promise<number | null> {
	const rows: Array<{ kind: 'thumb' | 'poster'; size: number; image: RenderedImage; storageKey: string }> = media.thumbs.map((thumb) => ({
		kind: 'thumb',
		size: thumb.size,
		image: thumb,
		storageKey: derivedKey(asset.id, `thumb-${thumb.size}.${thumb.format}`)
	}));
	if (media.poster) {
		rows.push({ kind: 'poster', size: 0, image: media.poster, storageKey: derivedKey(asset.id, 'poster.jpg') });
	}
	// Files first: a row never points at a file that is not there. Each write is atomic (temp + rename).
	await Promise.all(rows.map((row) => ctx.storage.putDerived(row.storageKey, row.image.bytes)));

	const outcome = await ctx.db.transaction(async (tx) => {
		const [updated] = await tx
			.update(assets)
			.set({
				status: 'ready',
				errorMessage: null,
				mediaType: media.type.mediaType,
				mime: media.type.mime,
				width: media.width,
				height: media.height,
				durationSec: media.durationSec,
				placeholderHash: media.placeholderHash,
				updatedAt: sql`now()`
			})
			.where(and(eq(assets.id, asset.id), isNull(assets.purgedAt), inArray(assets.status, runnable)))
			.returning();
		if (!updated) return null;
		await publishAssetStatus(tx, updated);
		// Every variant in one statement; a repeated run replaces its rows.
		if (rows.length > 0) {
			await tx
				.insert(assetVariants)
				.values(
					rows.map((row) => ({
						assetId: asset.id,
						kind: row.kind,
						size: row.size,
						format: row.image.format,
						width: row.image.width,
						height: row.image.height,
						byteSize: row.image.bytes.length,
						storageKey: row.storageKey
					}))
				)
				.onConflictDoUpdate({
					target: [assetVariants.assetId, assetVariants.kind, assetVariants.size],
					set: {
						format: sql`excluded.format`,
						width: sql`excluded.width`,
						height: sql`excluded.height`,
						byteSize: sql`excluded.byte_size`,
						storageKey: sql`excluded.storage_key`
					}
				});
		}
		// Sizes no longer configured (THUMB_SIZES changed since the last run) go.
		const stale = await tx
			.delete(assetVariants)
			.where(
				and(
					eq(assetVariants.assetId, asset.id),
					notInArray(
						assetVariants.storageKey,
						rows.map((r) => r.storageKey)
					)
				)
			)
			.returning({ storageKey: assetVariants.storageKey });
		return { stale };
	});

	if (!outcome) {
		// The asset moved on while we worked. If another run made it ready, the files at these fixed
		// keys are its files too: keep them. If it was purged (or deleted), leave nothing behind.
		const [now] = await ctx.db.select({ purgedAt: assets.purgedAt }).from(assets).where(eq(assets.id, asset.id));
		if (!now || now.purgedAt) await Promise.all(rows.map((row) => ctx.storage.remove(row.storageKey)));
		return null;
	}
	await Promise.all(outcome.stale.map((row) => ctx.storage.remove(row.storageKey)));
	return rows.length;
}

async function markFailed(db: DbOrTx, assetId: string, message: string, from: Asset['status'][]): Promise<void> {
	await db.transaction(async (tx) => {
		const [failed] = await tx
			.update(assets)
			.set({ status: 'failed', errorMessage: message, updatedAt: sql`now()` })
			.where(and(eq(assets.id, assetId), isNull(assets.purgedAt), inArray(assets.status, from)))
			.returning();
		if (failed) await publishAssetStatus(tx, failed);
	});
}

/**
 * Queues an asset for ingest. Pass the transaction that made the asset `processing` so both
 * commit together. `reprocess` uses the bulk queue, which never delays fresh uploads.
 */
export function enqueueIngest(boss: PgBoss, assetId: string, options: { tx?: DbOrTx; reprocess?: boolean } = {}): Promise<string | null> {
	const name = options.reprocess ? 'assets.reprocess' : 'assets.ingest';
	return enqueue(boss, name, { asset_id: assetId }, { tx: options.tx });
}

/**
 * The owner's Retry on a failed asset: back to `processing` and queued again, in one transaction.
 * Retrying an asset already processing or ready changes nothing. Another user's asset, or a purged
 * one, is not found.
 */
export async function retryIngest(db: Db, boss: PgBoss, ownerId: string, assetId: string): Promise<Asset> {
	try {
		return await db.transaction(async (tx) => {
			const [asset] = await tx
				.select()
				.from(assets)
				.where(and(eq(assets.id, assetId), eq(assets.ownerId, ownerId), isNull(assets.purgedAt)))
				.for('update');
			if (!asset) throw new NotFoundError('Asset');
			if (asset.status === 'processing' || asset.status === 'ready') return asset;
			if (asset.status === 'uploading') throw new ConflictError('The upload has not finished yet.');
			if (!asset.storageKey) throw new ConflictError('The file was never stored; upload it again.');
			const [updated] = await tx
				.update(assets)
				.set({ status: 'processing', errorMessage: null, updatedAt: sql`now()` })
				.where(eq(assets.id, asset.id))
				.returning();
			await enqueueIngest(boss, asset.id, { tx });
			return updated;
		});
	} catch (err) {
		// A failed asset is outside the per-owner sha256 uniqueness; the same bytes may have been uploaded since.
		if (uniqueViolation(err) === 'assets_owner_sha256_key') {
			throw new ConflictError('You already have this file in your library.');
		}
		throw err;
	}
}
