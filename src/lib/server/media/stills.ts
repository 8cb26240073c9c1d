/**
 * Still frames for the local renderer, made with sharp: an input image fitted to the clip's frame,
 * and the prompt as a transparent text card. sharp draws the text (SVG through librsvg) because the
 * static ffmpeg has drawtext but no font it can rely on; sharp finds the system's fonts itself.
 */
import sharp from 'sharp';
import { MediaContentError } from './errors';
import { MAX_INPUT_PIXELS } from './image';

export interface FrameSize {
	width: number;
	height: number;
}

/**
 * The image, oriented by its EXIF flag, as a PNG of exactly `size` (cover: cropped to fill) or
 * at most `size` (inside: whole image kept). A file sharp cannot decode is the input's fault.
 */
export async function fitImage(file: string, size: FrameSize, fit: 'cover' | 'inside', options: { blur?: number; border?: number } = {}): Promise<Buffer> {
	try {
		let image = sharp(file, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'warning' })
			.autoOrient()
			.toColourspace('srgb')
			.resize(size.width, size.height, { fit, position: 'centre' })
			.flatten({ background: '#000000' });
		if (options.blur) image = image.blur(options.blur);
		if (options.border) {
			const b = options.border;
			image = image.extend({ top: b, bottom: b, left: b, right: b, background: '#f4f1ea' });
		}
		return await image.png().toBuffer();
	} catch (err) {
		const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
		throw new MediaContentError(`The image could not be decoded (${detail}).`);
	}
}

const escapeXml = (text: string) =>
	text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

/** Greedy word wrap by character count. */
export function wrapText(text: string, perLine: number, maxLines: number): string[] {
	const words = text.trim().split(/\s+/).filter(Boolean).flatMap((w) => w.match(new RegExp(`.{1,${perLine}}`, 'gu')) ?? []);
	const lines: string[] = [];
	let line = '';
	for (const word of words) {
		const next = line ? `${line} ${word}` : word;
		if (next.length <= perLine) {
			line = next;
			continue;
		}
		lines.push(line);
		line = word;
		if (lines.length === maxLines) break;
	}
	if (lines.length < maxLines && line) lines.push(line);
	else if (lines.length === maxLines && line) lines[maxLines - 1] = `${lines[maxLines - 1].slice(0, perLine - 1)}…`;
	return lines;
}

/** The prompt, centred on a translucent panel, on a transparent PNG the size of the frame. */
export async function textCard(prompt: string, size: FrameSize): Promise<Buffer> {
	const fontSize = Math.max(10, Math.round(Math.min(size.width, size.height) / 11));
	// A bold sans glyph averages about 0.62 em; wider ones (W, M) are rare enough in prose.
	const perLine = Math.max(8, Math.floor((size.width * 0.84) / (fontSize * 0.62)));
	const lines = wrapText(prompt, perLine, Math.max(1, Math.floor((size.height * 0.7) / (fontSize * 1.25))));
	const lineHeight = Math.round(fontSize * 1.25);
	const panelHeight = lines.length * lineHeight + fontSize;
	const panelTop = Math.round((size.height - panelHeight) / 2);
	const tspans = lines
		.map((line, i) => `<tspan x="50%" y="${panelTop + Math.round(fontSize * 0.5) + (i + 1) * lineHeight - Math.round(lineHeight * 0.25)}">${escapeXml(line)}</tspan>`)
		.join('');
	const svg =
		`<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}">` +
		`<rect x="${Math.round(size.width * 0.05)}" y="${panelTop}" width="${Math.round(size.width * 0.9)}" height="${panelHeight}" rx="${Math.round(fontSize / 2)}" fill="#000000" fill-opacity="0.45"/>` +
		`<text font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${fontSize}" font-weight="bold" fill="#ffffff" text-anchor="middle">${tspans}</text>` +
		`</svg>`;
	return sharp(Buffer.from(svg)).png().toBuffer();
}
