/**
 * The media module's front door, and the only place that uses sharp or ffmpeg: what a stored file
 * is (from its bytes) and everything derived from it. Callers get bytes and numbers, never a
 * sharp instance or a child process.
 */
import { MediaContentError } from './errors';
import { renderImage, type RenderedImage } from './image';
import { sniffFile, type SniffedType } from './sniff';
import { probeWithPoster } from './video';

export { MediaContentError } from './errors';
export { resolveFfmpegPath } from './ffmpeg';
export { writeDemoMedia, type DemoFile } from './demo';
export { MAX_INPUT_PIXELS, type RenderedImage } from './image';
export { sniffContent, sniffFile, SNIFF_BYTES, type SniffedType } from './sniff';
export { extractFrame, posterTime, probeVideo, type VideoProbe } from './video';

export const ACCEPTED_TYPES_TEXT = 'JPEG, PNG, WebP, GIF, AVIF, MP4, MOV, WebM or MKV';

export interface MediaDerivatives {
	type: SniffedType;
	width: number;
	height: number;
	/** Videos only. */
	durationSec: number | null;
	thumbs: Array<RenderedImage & { size: number }>;
	/** Videos only: the frame the thumbnails were made from. */
	poster: RenderedImage | null;
	placeholderHash: string;
}

export interface DeriveOptions {
	sizes: readonly number[];
	ffmpegPath: string;
	maxPixels?: number;
}

/** Verifies the file's type from its bytes, reads its size (and duration) and renders its derivatives. */
export async function deriveMedia(file: string, options: DeriveOptions): Promise<MediaDerivatives> {
	const type = await sniffFile(file);
	if (!type) throw new MediaContentError(`The file is not a supported image or video (${ACCEPTED_TYPES_TEXT}).`);

	if (type.mediaType === 'image') {
		const image = await renderImage(file, { sizes: options.sizes, maxPixels: options.maxPixels });
		return { type, ...image, durationSec: null, poster: null };
	}

	const { probe, frame } = await probeWithPoster(options.ffmpegPath, file);
	const rendered = await renderImage(frame, { sizes: options.sizes, poster: true, maxPixels: options.maxPixels });
	return {
		type,
		width: probe.width,
		height: probe.height,
		durationSec: probe.durationSec,
		thumbs: rendered.thumbs,
		poster: rendered.poster ?? null,
		placeholderHash: rendered.placeholderHash
	};
}
