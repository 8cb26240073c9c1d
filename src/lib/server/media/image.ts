/**
 * Image derivatives with sharp: one decode feeds every thumbnail, the poster and the thumbhash.
 * The source is decoded once, oriented (EXIF) and, for thumbnails alone, shrunk to the largest
 * size on load; each output is then made from those pixels in memory, never from the file again.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { MediaContentError } from './errors';

/** sharp's own default (16383 × 16383 ≈ 268 MP): far above any camera, far below a decompression bomb. */
export const MAX_INPUT_PIXELS = 268_402_689;
/** Thumbhash wants at most 100 px a side. */
const PLACEHOLDER_EDGE = 100;
const WEBP_QUALITY = 80;
const POSTER_JPEG_QUALITY = 85;

export interface RenderedImage {
	bytes: Buffer;
	format: 'webp' | 'jpeg';
	width: number;
	height: number;
}

export interface ImageDerivatives {
	/** The source's displayed size (EXIF orientation applied). */
	width: number;
	height: number;
	/** One per requested size, longest edge at most that size (never upscaled). */
	thumbs: Array<RenderedImage & { size: number }>;
	/** The whole frame as JPEG; only when asked for (video posters). */
	poster?: RenderedImage;
	/** Base64 thumbhash. */
	placeholderHash: string;
}

export interface RenderOptions {
	sizes: readonly number[];
	/** Also encode the full-size image as a JPEG poster. */
	poster?: boolean;
	maxPixels?: number;
}

/** sharp's messages name the codec's complaint; the user needs to know the file is the problem. */
function contentError(err: unknown, maxPixels: number): MediaContentError {
	if (err instanceof Error && /pixel limit/.test(err.message)) return tooManyPixels(maxPixels);
	const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
	return new MediaContentError(`The image could not be decoded (${detail}).`);
}

function tooManyPixels(maxPixels: number, size?: string): MediaContentError {
	return new MediaContentError(
		`The image${size ? ` is ${size} pixels,` : ' has'} more than the ${Math.round(maxPixels / 1e6)} megapixels allowed.`
	);
}

export async function renderImage(input: string | Buffer, options: RenderOptions): Promise<ImageDerivatives> {
	const maxPixels = options.maxPixels ?? MAX_INPUT_PIXELS;
	const sizes = [...new Set(options.sizes)].sort((a, b) => a - b);
	// failOn 'warning': a truncated or corrupt file is refused rather than half-rendered in grey.
	const source = sharp(input, { limitInputPixels: maxPixels, failOn: 'warning' });

	let meta: Metadata;
	try {
		meta = await source.metadata();
	} catch (err) {
		throw contentError(err, maxPixels);
	}
	if (!meta.width || !meta.height) throw new MediaContentError('The image has no dimensions.');
	// The header alone tells; refusing here spares even the attempt to allocate the pixels.
	if (meta.width * meta.height > maxPixels) {
		throw tooManyPixels(maxPixels, `${meta.width}×${meta.height}`);
	}
	const width = meta.autoOrient?.width ?? meta.width;
	const height = meta.autoOrient?.height ?? meta.height;

	// The one decode. Thumbnails only need the largest size, so JPEG and WebP shrink on load.
	let decoded: Sharp = source.autoOrient().toColourspace('srgb');
	if (!options.poster && sizes.length) {
		const edge = sizes[sizes.length - 1];
		decoded = decoded.resize(edge, edge, { fit: 'inside', withoutEnlargement: true });
	}
	let pixels: { data: Buffer; info: OutputInfo };
	try {
		pixels = await decoded.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
	} catch (err) {
		throw contentError(err, maxPixels);
	}
	const raw = { width: pixels.info.width, height: pixels.info.height, channels: pixels.info.channels as 1 | 2 | 3 | 4 };
	const fromPixels = () => sharp(pixels.data, { raw });

	const [thumbs, poster, placeholderHash] = await Promise.all([
		Promise.all(
			sizes.map(async (size) => {
				const out = await fromPixels()
					.resize(size, size, { fit: 'inside', withoutEnlargement: true })
					.webp({ quality: WEBP_QUALITY })
					.toBuffer({ resolveWithObject: true });
				return { size, bytes: out.data, format: 'webp' as const, width: out.info.width, height: out.info.height };
			})
		),
		options.poster
			? fromPixels()
					.jpeg({ quality: POSTER_JPEG_QUALITY, mozjpeg: true })
					.toBuffer({ resolveWithObject: true })
					.then((out) => ({ bytes: out.data, format: 'jpeg' as const, width: out.info.width, height: out.info.height }))
			: undefined,
		fromPixels()
			.resize(PLACEHOLDER_EDGE, PLACEHOLDER_EDGE, { fit: 'inside' })
			.ensureAlpha()
			.raw()
			.toBuffer({ resolveWithObject: true })
			.then((out) => Buffer.from(rgbaToThumbHash(out.info.width, out.info.height, out.data)).toString('base64'))
	]);

	return { width, height, thumbs, poster, placeholderHash };
}
