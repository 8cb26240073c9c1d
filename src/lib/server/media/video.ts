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
	return probeFromReport(ffmpeg, file, stderr);
}

async function probeFromReport(ffmpeg: string, file: string, stderr: string): Promise<VideoProbe> {
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

/**
 * The probe and the poster frame (see posterTime) from ONE ffmpeg run, for ingest: it asks for the
 * first frame and the first one a second in (select), as PNGs, and reads the input report ffmpeg
 * writes anyway. Which of the two is the poster is decided afterwards from the duration. Each
 * spawn blocks the worker's event loop for milliseconds on these machines, and ingest ran two per
 * video (bench:jobs: a sixth of a worker's time); one run costs 34 ms of CPU for a 1-second clip
 * here against 52 ms for the two. Fast PNG compression: sharp decodes it at once.
 */
export async function probeWithPoster(ffmpeg: string, file: string): Promise<{ probe: VideoProbe; frame: Buffer }> {
	const { stdout, stderr } = await runFfmpeg(
		ffmpeg,
		// One decoding thread: ingest already runs a lane per core, and thread start-up was a
		// measurable part of a short clip's cost. -vsync 0 (not -fps_mode: the bundled ffmpeg is
		// older) passes the two selected frames through as they are.
		['-threads', '1', '-i', file, '-map', '0:v:0', '-vf', "select='eq(n,0)+gte(t-start_t,1)'", '-frames:v', '2', '-vsync', '0', '-f', 'image2pipe', '-c:v', 'png', '-compression_level', '1', '-'],
		{ timeoutMs: FRAME_TIMEOUT_MS }
	);
	const probe = await probeFromReport(ffmpeg, file, stderr);
	const frames = splitPngs(stdout);
	const wanted = posterTime(probe.durationSec) > 0 ? frames.at(-1) : frames[0];
	if (!wanted) throw new MediaContentError(`No frame of the video could be decoded (${reason(stderr)}).`);
	return { probe, frame: wanted };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Splits PNG files written back to back (image2pipe) at their IEND chunks. */
export function splitPngs(bytes: Buffer): Buffer[] {
	const images: Buffer[] = [];
	let start = 0;
	while (start + PNG_SIGNATURE.length <= bytes.length && bytes.subarray(start, start + 8).equals(PNG_SIGNATURE)) {
		let at = start + 8;
		let ended = false;
		// Each chunk: 4-byte length, 4-byte type, data, 4-byte CRC.
		while (at + 12 <= bytes.length) {
			const length = bytes.readUInt32BE(at);
			const type = bytes.toString('latin1', at + 4, at + 8);
			at += 12 + length;
			if (type === 'IEND') {
				ended = true;
				break;
			}
		}
		if (!ended || at > bytes.length) break;
		images.push(bytes.subarray(start, at));
		start = at;
	}
	return images;
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
