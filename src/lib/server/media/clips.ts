/**
 * Short generated clips for the local renderer: real H.264 MP4s (yuv420p, faststart) made by
 * ffmpeg filter graphs. Everything that varies comes from the arguments (the seed picks colours
 * and motion) and the encoder runs bit-exact, so the same arguments give the same bytes. Clips are
 * silent: a source video's audio is dropped.
 *
 * The static ffmpeg is 4.1: no xfade (a crossfade is an alpha fade overlaid), no ffprobe (inputs are
 * measured from `ffmpeg -i`'s report in video.ts).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MediaContentError } from './errors';
import { runFfmpeg } from './ffmpeg';
import { fitImage, textCard, type FrameSize } from './stills';
import { probeVideo } from './video';

export const CLIP_FPS = 24;
const RENDER_TIMEOUT_MS = 120_000;

export interface ClipTarget {
	ffmpegPath: string;
	/** Where the MP4 goes (the caller renames it into place). */
	output: string;
	/** A private scratch folder for stills; the caller removes it. */
	workDir: string;
}

export interface ClipInput {
	path: string;
	mediaType: 'image' | 'video';
}

/** A small PRNG (mulberry32): the seed's colours and motion, the same on every machine. */
export function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function hslHex(h: number, s: number, l: number): string {
	const a = s * Math.min(l, 1 - l);
	const channel = (n: number) => {
		const k = (n + h / 30) % 12;
		return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))))
			.toString(16)
			.padStart(2, '0');
	};
	return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/** Fixed-point text for filter expressions: no exponents, no locale. */
const num = (n: number) => n.toFixed(4);
const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

function encodeArgs(frames: number, output: string): string[] {
	return [
		'-frames:v', String(frames),
		'-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-pix_fmt', 'yuv420p', '-r', String(CLIP_FPS),
		'-movflags', '+faststart',
		// Bit-exact muxing leaves out the encoder's version and creation time: same input, same bytes.
		'-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1', '-an',
		'-f', 'mp4', '-y', output
	];
}

/** Failures that are the machine's, not the input's: worth another try. */
const MACHINE_TROUBLE = /No space left on device|Cannot allocate memory|Resource temporarily unavailable|Too many open files/i;

/** The renderer's trouble is transient; an input ffmpeg cannot read is the request's fault. */
export class ClipRenderError extends Error {
	override name = 'ClipRenderError';
}

async function render(ffmpegPath: string, args: string[], timeoutMs = RENDER_TIMEOUT_MS): Promise<void> {
	const { code, stderr } = await runFfmpeg(ffmpegPath, ['-loglevel', 'error', ...args], { timeoutMs });
	if (code === 0) return;
	const reason = stderr.trim().split('\n').at(-1)?.trim() || `exit code ${code}`;
	if (MACHINE_TROUBLE.test(stderr)) throw new ClipRenderError(`Rendering failed: ${reason}`);
	throw new MediaContentError(`The input could not be rendered (${reason}).`);
}

async function writeStill(workDir: string, name: string, bytes: Buffer): Promise<string> {
	const file = path.join(workDir, name);
	await fsp.writeFile(file, bytes);
	return file;
}

const framesOf = (seconds: number) => Math.round(seconds * CLIP_FPS);
const stillInput = (file: string, seconds: number) => ['-loop', '1', '-framerate', String(CLIP_FPS), '-t', num(seconds + 1), '-i', file];

/** text_to_video: the prompt on a card over a seeded, slowly shifting Game-of-Life glow. */
export async function renderTextClip(target: ClipTarget, o: { prompt: string; seconds: number; seed: number; size: FrameSize }): Promise<void> {
	const rnd = seededRandom(o.seed);
	const hue = rnd() * 360;
	const [alive, dead, mold] = [hslHex(hue, 0.85, 0.6), hslHex((hue + 200) % 360, 0.6, 0.16), hslHex((hue + 60) % 360, 0.7, 0.4)];
	const { width: w, height: h } = o.size;
	const grid = `${even(w / 5)}x${even(h / 5)}`;
	const life = `life=s=${grid}:seed=${o.seed}:rate=${CLIP_FPS}:ratio=${num(0.2 + rnd() * 0.3)}:mold=8:life_color=${alive}:death_color=${dead}:mold_color=${mold}`;
	const card = await writeStill(target.workDir, 'card.png', await textCard(o.prompt, o.size));
	const drift = num(20 + rnd() * 40) + (rnd() < 0.5 ? '' : '*-1');
	const graph =
		`[0:v]scale=${w}:${h}:flags=bicubic,boxblur=6:2,hue=h='t*${drift}',setsar=1[bg];` +
		`[1:v]format=rgba,fade=in:st=0:d=0.5:alpha=1[card];` +
		`[bg][card]overlay=x=0:y='sin(t*1.5)*${num(h / 60)}':shortest=0,format=yuv420p[v]`;
	await render(target.ffmpegPath, ['-f', 'lavfi', '-i', life, ...stillInput(card, o.seconds), '-filter_complex', graph, '-map', '[v]', ...encodeArgs(framesOf(o.seconds), target.output)]);
}

/** The zoompan of a still from one framing to another over `frames` frames (a Ken Burns move). */
function kenBurns(rnd: () => number, frames: number, size: FrameSize): string {
	const zoomIn = rnd() < 0.5;
	const [z0, z1] = zoomIn ? [1, 1.2 + rnd() * 0.15] : [1.2 + rnd() * 0.15, 1];
	const [ax, ay, bx, by] = [rnd(), rnd(), rnd(), rnd()];
	const p = `min(on/${frames},1)`;
	return (
		`zoompan=z='${num(z0)}+${num(z1 - z0)}*${p}'` +
		`:x='(iw-iw/zoom)*(${num(ax)}+${num(bx - ax)}*${p})'` +
		`:y='(ih-ih/zoom)*(${num(ay)}+${num(by - ay)}*${p})'` +
		`:d=1:s=${size.width}x${size.height}:fps=${CLIP_FPS}`
	);
}

/** image_to_video: a slow, seeded pan and zoom across the image (rendered at twice the size, so it glides). */
export async function renderImageClip(target: ClipTarget, o: { image: string; seconds: number; seed: number; size: FrameSize }): Promise<void> {
	const frames = framesOf(o.seconds);
	const still = await writeStill(target.workDir, 'still.png', await fitImage(o.image, { width: o.size.width * 2, height: o.size.height * 2 }, 'cover'));
	const graph = `[0:v]${kenBurns(seededRandom(o.seed), frames, o.size)},setsar=1,format=yuv420p[v]`;
	await render(target.ffmpegPath, [...stillInput(still, o.seconds), '-filter_complex', graph, '-map', '[v]', ...encodeArgs(frames, target.output)]);
}

/** The size a video keeps in a clip: its own shape, longest edge `maxEdge`, even sides for yuv420p. */
export function fitVideoSize(width: number, height: number, maxEdge: number): FrameSize {
	const scale = maxEdge / Math.max(width, height);
	return { width: even(width * scale), height: even(height * scale) };
}

/**
 * video_extend: the source, then `seconds` more of its last frame with a slow zoom. The output
 * keeps the source's shape (scaled to `maxEdge`) so the original part looks as it did.
 */
export async function renderExtendedClip(target: ClipTarget, o: { video: string; seconds: number; seed: number; maxEdge: number }): Promise<void> {
	const probe = await probeVideo(target.ffmpegPath, o.video);
	const size = fitVideoSize(probe.width, probe.height, o.maxEdge);
	const sourceFrames = Math.max(1, framesOf(probe.durationSec));
	const extra = framesOf(o.seconds);
	const rnd = seededRandom(o.seed);
	// Zoom only after the source ends: frames before `sourceFrames` pass through at zoom 1.
	const zoom = `zoompan=z='if(gte(in,${sourceFrames}),1+${num(0.1 + rnd() * 0.15)}*(in-${sourceFrames})/${extra},1)'` +
		`:x='(iw-iw/zoom)/2':y='(ih-ih/zoom)/2':d=1:s=${size.width}x${size.height}:fps=${CLIP_FPS}`;
	const graph =
		`[0:v]fps=${CLIP_FPS},scale=${size.width * 2}:${size.height * 2},setsar=1,` +
		`tpad=stop_mode=clone:stop_duration=${num(o.seconds + 1)},${zoom},format=yuv420p[v]`;
	// The whole source is re-encoded: a long one gets time in proportion (small frames encode at many times real time).
	const timeoutMs = RENDER_TIMEOUT_MS + probe.durationSec * 500;
	await render(target.ffmpegPath, ['-i', o.video, '-filter_complex', graph, '-map', '[v]', ...encodeArgs(sourceFrames + extra, target.output)], timeoutMs);
}

/** One side of a transition as an input of `seconds`: a still (fitted by sharp) or a video's end/start. */
async function transitionInput(target: ClipTarget, input: ClipInput, name: string, seconds: number, size: FrameSize, end: boolean): Promise<string[]> {
	if (input.mediaType === 'image') return stillInput(await writeStill(target.workDir, `${name}.png`, await fitImage(input.path, size, 'cover')), seconds);
	const probe = await probeVideo(target.ffmpegPath, input.path);
	// The first clip's last `seconds` flow into the second clip's first `seconds`.
	const from = end ? Math.max(0, probe.durationSec - seconds) : 0;
	return ['-ss', num(from), '-i', input.path];
}

/** video_transition: the first input crossfades into the last over the middle of the clip. */
export async function renderTransitionClip(target: ClipTarget, o: { first: ClipInput; last: ClipInput; seconds: number; seed: number; size: FrameSize }): Promise<void> {
	const frames = framesOf(o.seconds);
	const { width: w, height: h } = o.size;
	const prepare = (i: number) =>
		`[${i}:v]fps=${CLIP_FPS},scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1,format=yuv420p,` +
		`tpad=stop_mode=clone:stop_duration=${num(o.seconds + 1)},trim=end_frame=${frames},setpts=PTS-STARTPTS[in${i}]`;
	const rnd = seededRandom(o.seed);
	// The fade starts between 20 % and 35 % of the way in and lasts 40 % of the clip. (An alpha fade
	// and an overlay: a blend expression would do the same at a third of the speed.)
	const start = o.seconds * (0.2 + rnd() * 0.15);
	const graph =
		`${prepare(0)};${prepare(1)};[in1]format=yuva420p,fade=in:st=${num(start)}:d=${num(o.seconds * 0.4)}:alpha=1[over];` +
		`[in0][over]overlay=shortest=1,format=yuv420p[v]`;
	const inputs = [
		...(await transitionInput(target, o.first, 'first', o.seconds, o.size, true)),
		...(await transitionInput(target, o.last, 'last', o.seconds, o.size, false))
	];
	await render(target.ffmpegPath, [...inputs, '-filter_complex', graph, '-map', '[v]', ...encodeArgs(frames, target.output)]);
}

/** fusion: the images as framed cards drifting over a blurred backdrop of the first one. */
export async function renderFusionClip(target: ClipTarget, o: { images: string[]; seconds: number; seed: number; size: FrameSize }): Promise<void> {
	if (o.images.length < 1 || o.images.length > 3) throw new MediaContentError('Fusion takes one to three images.');
	const frames = framesOf(o.seconds);
	const { width: w, height: h } = o.size;
	const n = o.images.length;
	const rnd = seededRandom(o.seed);
	const backdrop = await writeStill(target.workDir, 'backdrop.png', await fitImage(o.images[0], o.size, 'cover', { blur: 6 }));
	const border = Math.max(1, Math.round(h / 90));
	const box = { width: even((w * (n === 1 ? 0.6 : 0.9 / n)) - 2 * border), height: even(h * 0.62 - 2 * border) };
	const cards: string[] = [];
	for (const [i, image] of o.images.entries()) cards.push(await writeStill(target.workDir, `card${i}.png`, await fitImage(image, box, 'inside', { border })));

	const chains = [`[0:v]scale=${w}:${h},eq=brightness=-0.12,setsar=1[l0]`];
	for (let i = 0; i < n; i++) {
		const cx = num((w * (i + 1)) / (n + 1));
		const [ampX, ampY, speed, phase] = [w * 0.04 * rnd(), h * 0.06 * rnd(), 0.8 + rnd(), rnd() * Math.PI * 2];
		const x = `${cx}-overlay_w/2+${num(ampX)}*sin(t*${num(speed)}+${num(phase)})`;
		const y = `(main_h-overlay_h)/2+${num(ampY)}*cos(t*${num(speed)}+${num(phase)})`;
		chains.push(`[${i + 1}:v]format=rgba,fade=in:st=${num(i * 0.25)}:d=0.5:alpha=1[c${i}]`);
		chains.push(`[l${i}][c${i}]overlay=x='${x}':y='${y}':eval=frame${i === n - 1 ? ',format=yuv420p[v]' : `[l${i + 1}]`}`);
	}
	const inputs = [...stillInput(backdrop, o.seconds), ...cards.flatMap((card) => stillInput(card, o.seconds))];
	await render(target.ffmpegPath, [...inputs, '-filter_complex', chains.join(';'), '-map', '[v]', ...encodeArgs(frames, target.output)]);
}
