/**
 * A frame of one of the user's videos as an image asset of its own, e.g. to remix a generated
 * video with image_to_video. The PNG goes in through the upload path (uploadFile): stored by its
 * sha256, the storage quota charged, ingest queued, and the same bytes answered as a duplicate.
 * Its lineage edge (child: the image, parent: the video, relation `source_video`) is written in
 * the transaction that creates it.
 */
import { Readable } from 'node:stream';
import type { Asset, User } from '../db/schema';
import { ConflictError, ValidationError } from '../errors';
import { addLineage } from '../lineage/service';
import { extractFrame, MediaContentError, posterTime, probeVideo } from '../media';
import { uploadFile, type UploadDeps } from '../uploads/service';
import { findOwnAsset, restoreAsset } from './service';

export const FRAME_RELATION = 'source_video';

export interface FrameDeps extends UploadDeps {
	ffmpegPath: string;
}

export interface FrameResult {
	asset: Asset;
	/** The same bytes were already an asset of the user's (answered instead of a new one). */
	duplicate: boolean;
	/** The moment the frame was taken at, in seconds. */
	atSec: number;
}

/**
 * Takes the frame at `atSec` (default: the poster's moment) of the user's ready video. 404 for an
 * asset that is not the user's; 400 for an image or a time outside the video; 409 while the video
 * is not ready or is in the trash. A duplicate found in the trash is restored: asking for the frame
 * is asking to use it.
 */
export async function createFrameAsset(deps: FrameDeps, user: User, videoId: string, { atSec }: { atSec?: number } = {}): Promise<FrameResult> {
	const video = await findOwnAsset(deps.db, user, videoId);
	if (video.mediaType !== 'video') {
		throw new ValidationError('Only a video has frames; this asset is an image.', { asset_id: ['Choose a video.'] });
	}
	if (video.deletedAt) throw new ConflictError('This video is in the trash; restore it first.');
	if (video.status !== 'ready' || !video.storageKey) {
		throw new ConflictError(video.status === 'failed' ? 'This video failed processing; it has no frames to take.' : 'This video is not ready yet; try again in a moment.');
	}
	const file = deps.storage.absolutePath(video.storageKey);
	// Ingest records the duration of every ready video; probing covers a row from before it did.
	const duration = video.durationSec ?? (await probeVideo(deps.ffmpegPath, file)).durationSec;
	const at = atSec ?? posterTime(duration);
	// The end itself has no frame (ffmpeg would answer the first one instead).
	if (at < 0 || (at > 0 && at >= duration)) {
		const message = `The video is ${formatSeconds(duration)} s long: choose a time from 0 to less than that.`;
		throw new ValidationError(message, { at_sec: [message] });
	}

	let png: Buffer;
	try {
		png = await extractFrame(deps.ffmpegPath, file, at);
	} catch (err) {
		// The video was read at ingest, so this is its file gone bad since, not the request.
		if (err instanceof MediaContentError) throw new ConflictError(`No frame could be taken from this video: ${err.message}`);
		throw err;
	}

	const result = await uploadFile(
		deps,
		user,
		{ filename: frameFilename(video, at), declaredMime: 'image/png', stream: Readable.from([png]) },
		async () => ({ workspace_id: video.workspaceId }),
		(tx, image) => addLineage(tx, { childAssetId: image.id, parents: [{ assetId: video.id, relation: FRAME_RELATION }] })
	);
	if (!result.duplicate) return { asset: result.asset, duplicate: false, atSec: at };

	const existing = result.inTrash ? (await restoreAsset(deps.db, user, result.assetId)).asset : await findOwnAsset(deps.db, user, result.assetId);
	try {
		await addLineage(deps.db, { childAssetId: existing.id, parents: [{ assetId: video.id, relation: FRAME_RELATION }] });
	} catch (err) {
		// The image is already an ancestor of the video (it was made from these very bytes): the
		// edge would close a cycle, and the existing one says more.
		if (!(err instanceof ConflictError)) throw err;
	}
	return { asset: existing, duplicate: true, atSec: at };
}

function formatSeconds(sec: number): string {
	return Number(sec.toFixed(2)).toString();
}

/** "sunset.mp4" at 1.5 s → "sunset-frame-1.5s.png". */
function frameFilename(video: Asset, atSec: number): string {
	const base = (video.originalFilename ?? 'video').replace(/\.[^.]+$/, '') || 'video';
	return `${base}-frame-${formatSeconds(atSec)}s.png`;
}
