/** Videos with ffmpeg: dimensions and duration from its input report, and one poster frame. */
import { MediaContentError } from './errors';
import { runFfmpeg } from './ffmpeg';

export interface VideoProbe {
	/** Displayed size (a 90° rotation flag swaps the coded width and height). */
	width: number;
	height: number;
	durationSec: number;
}

const PROBE_TIMEOUT_MS = 30_000;
const SCAN_TIMEOUT_MS = 120_000;
const FRAME_TIMEOUT_MS = 60_000;

function seconds(h: string, m: string, s: string): number {
	return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Parses `ffmpeg -i`'s report of the first input: duration (null if N/A) and the first video stream. */
export function parseInputReport(stderr: string): { width: number; height: number; rotation: number; durationSec: number | null } | null {
	// Dimensions follow ", " (codec tags like "avc1 / 0x31637661" sit in parentheses, after "/ ").
	const stream = /^\s*Stream #\d+:\d+.*?: Video: [^\n]*?, (\d+)x(\d+)(?=[\s,[]|$)/m.exec(stderr);
	if (!stream) return null;
	const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
	const rotate = /^\s*rotate\s*: (-?\d+)/m.exec(stderr) ?? /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(stderr);
	return {
		width: Number(stream[1]),
		height: Number(stream[2]),
		rotation: rotate ? Math.round(Number(rotate[1])) : 0,
		durationSec: duration ? seconds(duration[1], duration[2], duration[3]) : null
	};
}

function reason(stderr: string): string {
	const lines = stderr.trim().split('\n').filter((l) => !/At least one output file must be specified/.test(l));
	return lines.at(-1)?.replace(/^.*?: /, '').trim() || 'unknown error';
}

export async function probeVideo(ffmpeg: string, file: string): Promise<VideoProbe> {
	// With no output ffmpeg exits 1 after reporting the input: the report is what we want.
	const { stderr } = await runFfmpeg(ffmpeg, ['-i', file], { timeoutMs: PROBE_TIMEOUT_MS });
	const report = parseInputReport(stderr);
	if (!report) {
		if (/Input #0/.test(stderr)) throw new MediaContentError('The file has no video stream.');
		throw new MediaContentError(`The video could not be read (${reason(stderr)}).`);
	}
	if (report.width < 1 || report.height < 1) throw new MediaContentError('The video has no dimensions.');
	const sideways = Math.abs(report.rotation) % 180 === 90;
	let durationSec = report.durationSec;
	if (durationSec === null) durationSec = await scanDuration(ffmpeg, file);
	return {
		width: sideways ? report.height : report.width,
		height: sideways ? report.width : report.height,
		durationSec
	};
}

/** Streams without a duration in their header (live WebM): decode the video track to find the end. */
async function scanDuration(ffmpeg: string, file: string): Promise<number> {
	const { code, stderr } = await runFfmpeg(ffmpeg, ['-i', file, '-map', '0:v:0', '-f', 'null', '-'], { timeoutMs: SCAN_TIMEOUT_MS });
	const times = [...stderr.matchAll(/time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/g)];
	const last = times.at(-1);
	if (code !== 0 || !last) throw new MediaContentError(`The video could not be decoded (${reason(stderr)}).`);
	return seconds(last[1], last[2], last[3]);
}

/** The poster's moment: one second in, past fade-ins, unless the clip is shorter than two. */
export function posterTime(durationSec: number): number {
	return durationSec >= 2 ? 1 : 0;
}

/** One frame as PNG bytes (lossless: sharp makes the poster and thumbnails from it), rotation applied. */
export async function extractFrame(ffmpeg: string, file: string, atSec: number): Promise<Buffer> {
	const grab = (at: number) =>
		runFfmpeg(
			ffmpeg,
			['-ss', at.toFixed(3), '-i', file, '-map', '0:v:0', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'],
			{ timeoutMs: FRAME_TIMEOUT_MS }
		);
	let result = await grab(atSec);
	// Seeking past a short or oddly indexed stream yields nothing: the first frame will do.
	if (result.stdout.length === 0 && atSec > 0) result = await grab(0);
	if (result.stdout.length === 0) throw new MediaContentError(`No frame of the video could be decoded (${reason(result.stderr)}).`);
	return result.stdout;
}
