/**
 * Sample media for the demo seed, drawn on the spot (no binary files in the repository): a few
 * gradient images of different shapes, one carrying an EXIF orientation, and a short MP4 of
 * ffmpeg's test pattern. They go through the same upload and ingest path as a user's files.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { runFfmpeg } from './ffmpeg';

export interface DemoFile {
	path: string;
	filename: string;
	mime: string;
}

interface DemoImage {
	filename: string;
	width: number;
	height: number;
	/** Two colours of a diagonal gradient, and a third for a soft circle. */
	colours: [string, string, string];
	/** EXIF orientation 6: stored landscape, shown portrait, as phones write it. */
	rotated?: boolean;
	format: 'jpeg' | 'png' | 'webp';
}

const IMAGES: DemoImage[] = [
	{ filename: 'sunrise-over-the-bay.jpg', width: 1600, height: 1000, colours: ['#ff9a5a', '#5a3fd1', '#ffe29a'], format: 'jpeg' },
	{ filename: 'forest-floor.png', width: 900, height: 900, colours: ['#1d6b3a', '#a8e063', '#f4f1bb'], format: 'png' },
	{ filename: 'lighthouse-tall.jpg', width: 720, height: 1800, colours: ['#0f2027', '#2c91c2', '#fafafa'], format: 'jpeg' },
	{ filename: 'desert-panorama.webp', width: 2400, height: 600, colours: ['#f7b733', '#c0392b', '#fff3d6'], format: 'webp' },
	{ filename: 'phone-portrait.jpg', width: 1200, height: 900, colours: ['#ee9ca7', '#3a1c71', '#ffdde1'], rotated: true, format: 'jpeg' },
	{ filename: 'night-city.jpg', width: 1280, height: 720, colours: ['#141e30', '#8e2de2', '#f9d423'], format: 'jpeg' }
];

function gradientSvg({ width, height, colours: [from, to, glow] }: DemoImage): Buffer {
	const r = Math.round(Math.min(width, height) / 4);
	return Buffer.from(
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
			`<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient>` +
			`<radialGradient id="s"><stop offset="0" stop-color="${glow}" stop-opacity="0.9"/><stop offset="1" stop-color="${glow}" stop-opacity="0"/></radialGradient></defs>` +
			`<rect width="100%" height="100%" fill="url(#g)"/>` +
			`<circle cx="${Math.round(width * 0.68)}" cy="${Math.round(height * 0.35)}" r="${r}" fill="url(#s)"/></svg>`
	);
}

async function writeImage(dir: string, image: DemoImage): Promise<DemoFile> {
	const file = path.join(dir, image.filename);
	let pipeline = sharp(gradientSvg(image));
	if (image.format === 'png') pipeline = pipeline.png();
	else if (image.format === 'webp') pipeline = pipeline.webp({ quality: 80 });
	else pipeline = pipeline.jpeg({ quality: 85 });
	if (image.rotated) pipeline = pipeline.withMetadata({ orientation: 6 });
	await pipeline.toFile(file);
	return { path: file, filename: image.filename, mime: `image/${image.format}` };
}

async function writeVideo(dir: string, ffmpegPath: string): Promise<DemoFile> {
	const file = path.join(dir, 'test-pattern.mp4');
	const result = await runFfmpeg(
		ffmpegPath,
		[
			'-loglevel', 'error', '-y',
			'-f', 'lavfi', '-i', 'testsrc=duration=3:size=640x360:rate=25',
			'-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
			file
		],
		{ timeoutMs: 30_000 }
	);
	if (result.code !== 0) throw new Error(`ffmpeg could not make the demo video: ${result.stderr.trim()}`);
	return { path: file, filename: 'test-pattern.mp4', mime: 'video/mp4' };
}

/** Writes the demo files into `dir` (which must exist) and lists them, images first. */
export async function writeDemoMedia(dir: string, ffmpegPath: string): Promise<DemoFile[]> {
	await fsp.mkdir(dir, { recursive: true });
	const [video, ...images] = await Promise.all([writeVideo(dir, ffmpegPath), ...IMAGES.map((image) => writeImage(dir, image))]);
	return [...images, video];
}
