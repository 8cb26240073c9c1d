/**
 * Spawning ffmpeg: an argument array (never a shell), a time limit, bounded output. The binary
 * is FFMPEG_PATH when configured, else the static build inside @ffmpeg-installer/ffmpeg.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { MediaContentError } from './errors';

export function resolveFfmpegPath(configured?: string): string {
	if (configured) return configured;
	const installer = createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string };
	return installer.path;
}

export interface FfmpegResult {
	code: number | null;
	stdout: Buffer;
	stderr: string;
}

export interface FfmpegOptions {
	timeoutMs: number;
	/** stdout beyond this is an error (a frame bigger than any real video's). */
	maxStdoutBytes?: number;
}

/** Nice value for ffmpeg runs (0 normal, 19 lowest). */
const FFMPEG_NICE = 10;

/** ffmpeg's stderr can be long; the tail holds the reason it stopped. */
const STDERR_KEEP = 64 * 1024;

export function runFfmpeg(binary: string, args: string[], options: FfmpegOptions): Promise<FfmpegResult> {
	const maxStdout = options.maxStdoutBytes ?? 256 * 1024 * 1024;
	return new Promise((resolve, reject) => {
		const child = spawn(binary, ['-hide_banner', '-nostdin', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		// Media work is background work: at a lower CPU priority it yields to the requests and
		// pipeline stages of the same machine (jobs hold account slots while they wait for CPU),
		// and still takes every idle cycle. Lowering one's own child's priority needs no privilege.
		if (child.pid !== undefined) {
			try {
				os.setPriority(child.pid, FFMPEG_NICE);
			} catch {
				// Already exited: nothing to lower.
			}
		}
		const chunks: Buffer[] = [];
		let stdoutBytes = 0;
		let stderr = '';
		let failure: Error | undefined;
		const stop = (err: Error) => {
			failure ??= err;
			child.kill('SIGKILL');
		};
		const timer = setTimeout(
			() => stop(new MediaContentError(`The video took longer than ${Math.round(options.timeoutMs / 1000)} s to read.`)),
			options.timeoutMs
		);
		child.stdout.on('data', (chunk: Buffer) => {
			stdoutBytes += chunk.length;
			if (stdoutBytes > maxStdout) return stop(new MediaContentError('The video frame is too large.'));
			chunks.push(chunk);
		});
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (text: string) => {
			stderr = (stderr + text).slice(-STDERR_KEEP);
		});
		// A missing or unrunnable binary is the installation's fault, not the file's: not a content error.
		child.once('error', (err) => {
			clearTimeout(timer);
			reject(err);
		});
		child.once('close', (code) => {
			clearTimeout(timer);
			if (failure) reject(failure);
			else resolve({ code, stdout: Buffer.concat(chunks), stderr });
		});
	});
}
