/**
 * Media work (ffmpeg runs, sharp resizes) in a helper process at a lower CPU priority, for the
 * worker's ingest. Two reasons, both measured with npm run bench:jobs on the 2-core machine:
 * - Spawning ffmpeg from the worker cost ~35 ms of its main thread per video (fork of a large
 *   process is slow here), during which no pipeline stage ran. The helper is small, and spawns
 *   from its own thread of control.
 * - Thumbnails are background work: at nice 10 (ffmpeg already ran there) they take every idle
 *   cycle and yield most of a busy one to the pipeline stages and web requests of the same
 *   machine, whose jobs hold account slots and whose users wait. Not nice 19: beside a busy
 *   browser (the end-to-end tests) an upload's thumbnail then took tens of seconds.
 * A crashed helper is started again on the next request; requests in flight with it fail as
 * transient errors (pg-boss retries the ingest).
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MediaContentError } from './errors';
import type { DeriveOptions, MediaDerivatives } from './index';

const HELPER_NICE = 10;

interface Pending {
	resolve(result: MediaDerivatives): void;
	reject(err: Error): void;
}

type Answer = { id: number; result: MediaDerivatives } | { id: number; error: { message: string; content: boolean } };

export interface MediaHelper {
	derive(file: string, options: DeriveOptions): Promise<MediaDerivatives>;
	stop(): void;
}

export function startMediaHelper(): MediaHelper {
	const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), `helper${path.extname(fileURLToPath(import.meta.url))}`);
	let child: ChildProcess | null = null;
	let nextId = 1;
	const pending = new Map<number, Pending>();

	const start = (): ChildProcess => {
		// The worker runs under tsx's loader and its execArgv carries it to the child; a process
		// without it (a test runner) adds it, so the .ts entry loads.
		const loader = entry.endsWith('.ts') && !process.execArgv.some((arg) => arg.includes('tsx')) ? ['--import', 'tsx'] : [];
		const started = fork(entry, [], { execArgv: [...process.execArgv, ...loader], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		if (started.pid !== undefined) {
			try {
				os.setPriority(started.pid, HELPER_NICE);
			} catch {
				// Already gone: its exit handler answers the requests.
			}
		}
		started.on('message', (answer: Answer) => {
			const waiting = pending.get(answer.id);
			if (!waiting) return;
			pending.delete(answer.id);
			if ('error' in answer) waiting.reject(answer.error.content ? new MediaContentError(answer.error.message) : new Error(answer.error.message));
			else waiting.resolve(withBuffers(answer.result));
		});
		started.on('exit', () => {
			if (child === started) child = null;
			for (const [id, waiting] of pending) {
				pending.delete(id);
				waiting.reject(new Error('The media helper process stopped'));
			}
		});
		// Not a reason to keep the worker alive.
		started.unref();
		started.channel?.unref();
		return started;
	};

	return {
		derive(file, options) {
			child ??= start();
			const id = nextId++;
			const target = child;
			return new Promise((resolve, reject) => {
				pending.set(id, { resolve, reject });
				target.send({ id, file, options });
			});
		},
		stop() {
			child?.kill();
			child = null;
		}
	};
}

/** Structured clone turns Buffers into plain Uint8Arrays: back to Buffers, without copying. */
function withBuffers(result: MediaDerivatives): MediaDerivatives {
	const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	return {
		...result,
		thumbs: result.thumbs.map((t) => ({ ...t, bytes: buffer(t.bytes) })),
		poster: result.poster ? { ...result.poster, bytes: buffer(result.poster.bytes) } : null
	};
}
