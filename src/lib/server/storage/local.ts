/**
 * Local filesystem storage under FS_ROOT. Originals are content-addressed (the key is derived
 * from the SHA-256), so identical bytes are stored once. Every write goes to a temporary file
 * that is renamed into place: a crash never leaves a half-written file under a real key.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A file written to temporary storage, waiting to be committed under its key or discarded. */
export interface TempFile {
	/** Absolute path of the temporary file; pass it to `commitOriginal` or `discard`. */
	tempPath: string;
	sha256: string;
	size: number;
}

/** A temporary file as it was just written. */
export interface StoredTemp extends TempFile {
	/**
	 * The file's first bytes (up to HEAD_BYTES), kept while it was written: enough for a type sniff
	 * (media/sniff.ts sniffContent) without opening the file again.
	 */
	head: Buffer;
}

export const HEAD_BYTES = 4096;

export class TooLargeError extends Error {
	constructor(readonly limit: number) {
		super(`The body is larger than ${limit} bytes.`);
		this.name = 'TooLargeError';
	}
}

export interface Storage {
	readonly root: string;
	/** Streams bytes to a temporary file while hashing; throws TooLargeError past maxBytes. */
	writeTemp(source: Readable | AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredTemp>;
	/**
	 * Takes a finished file already on disk (a tus upload) as a temporary file without copying its
	 * bytes when it can: a hard link on the same filesystem, a copy otherwise. The caller's file is
	 * left where it was. Hashes what it took; throws TooLargeError past maxBytes.
	 */
	adoptFile(filePath: string, maxBytes: number): Promise<StoredTemp>;
	/** Moves a temporary file to its content-addressed key (replacing the identical file already there, if any). */
	commitOriginal(temp: TempFile, extension: string): Promise<string>;
	/** Writes a derived file (thumbnail, poster) at the given key, atomically. */
	putDerived(key: string, bytes: Uint8Array): Promise<void>;
	discard(temp: TempFile): Promise<void>;
	remove(key: string): Promise<void>;
	exists(key: string): Promise<boolean>;
	size(key: string): Promise<number>;
	absolutePath(key: string): string;
	readStream(key: string, range?: { start: number; end: number }): fs.ReadStream;
}

/**
 * 'originals/ab/abcdef….jpg': one level of 256 directories, as git's object store. A million files
 * is ~4000 per directory, which ext4's hashed directories look up as fast as a few. Two levels
 * (65536 directories) made a new directory for nearly every file of the first hundred thousand:
 * a mkdir and a new inode per stored file. Keys already stored under two levels stay valid: every
 * asset row keeps its own key.
 */
export function originalKey(sha256: string, extension: string): string {
	const ext = extension.replace(/[^a-z0-9]/gi, '').toLowerCase();
	return `originals/${sha256.slice(0, 2)}/${sha256}${ext ? `.${ext}` : ''}`;
}

/** Keeps the first HEAD_BYTES of the chunks it is shown. */
function headKeeper() {
	const parts: Buffer[] = [];
	let kept = 0;
	return {
		see(chunk: Buffer) {
			if (kept >= HEAD_BYTES) return;
			const part = chunk.subarray(0, HEAD_BYTES - kept);
			parts.push(Buffer.from(part));
			kept += part.length;
		},
		head: () => Buffer.concat(parts, kept)
	};
}

function isLinkUnsupported(err: unknown): boolean {
	const code = (err as NodeJS.ErrnoException | null)?.code;
	return code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP';
}

const STREAM_BUFFER_BYTES = 1024 * 1024;

export function createLocalStorage(root: string): Storage {
	const absRoot = path.resolve(root);
	const tmpDir = path.join(absRoot, 'tmp');

	function absolutePath(key: string): string {
		const full = path.resolve(absRoot, key);
		// Keys are made by this module, never from user input; this guards against a bug that would.
		if (!full.startsWith(absRoot + path.sep)) throw new Error(`Storage key escapes the root: ${key}`);
		return full;
	}

	// Directories this process made or found: each file written used to cost a mkdir first (two
	// per derived file), a thread-pool round trip each (bench:jobs: mkdir was the largest
	// file-system item in a worker's profile). A directory removed behind our back is made again
	// when the write or rename into it fails with ENOENT.
	const made = new Set<string>();
	async function ensureDir(dir: string): Promise<void> {
		if (made.has(dir)) return;
		await fsp.mkdir(dir, { recursive: true });
		made.add(dir);
	}
	async function intoDir<T>(dir: string, write: () => Promise<T>): Promise<T> {
		await ensureDir(dir);
		try {
			return await write();
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
			made.delete(dir);
			await ensureDir(dir);
			return write();
		}
	}

	async function tempFile(): Promise<string> {
		await ensureDir(tmpDir);
		return path.join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
	}

	async function moveIntoPlace(from: string, key: string): Promise<void> {
		const to = absolutePath(key);
		await intoDir(path.dirname(to), () => fsp.rename(from, to));
	}

	return {
		root: absRoot,

		async writeTemp(source, maxBytes) {
			const tempPath = await tempFile();
			const hash = createHash('sha256');
			const head = headKeeper();
			let size = 0;
			// 1 MiB of buffering on each side instead of Node's 16 KiB: the body is paused less
			// often and the file gets fewer, larger writes (fs.WriteStream coalesces with writev).
			// bench:upload: PUT 0.27-0.36 -> 0.40-0.42 GiB/s.
			const meter = new Transform({
				highWaterMark: STREAM_BUFFER_BYTES,
				transform(chunk: Buffer, _enc, done) {
					size += chunk.length;
					if (size > maxBytes) return done(new TooLargeError(maxBytes));
					hash.update(chunk);
					head.see(chunk);
					done(null, chunk);
				}
			});
			// Opened before the body is read, so a temp directory removed meanwhile is made again here.
			const file = await intoDir(tmpDir, () => fsp.open(tempPath, 'wx'));
			try {
				await pipeline(source, meter, file.createWriteStream({ highWaterMark: STREAM_BUFFER_BYTES }));
			} catch (err) {
				await file.close().catch(() => {});
				await fsp.rm(tempPath, { force: true });
				throw err;
			}
			return { tempPath, sha256: hash.digest('hex'), size, head: head.head() };
		},

		async adoptFile(filePath, maxBytes) {
			const { size } = await fsp.stat(filePath);
			if (size > maxBytes) throw new TooLargeError(maxBytes);
			const tempPath = await tempFile();
			try {
				await intoDir(tmpDir, () => fsp.link(filePath, tempPath));
			} catch (err) {
				// Another filesystem (or one without hard links): the bytes have to be copied.
				if (!isLinkUnsupported(err)) throw err;
				await fsp.copyFile(filePath, tempPath, fs.constants.COPYFILE_EXCL);
			}
			try {
				// Hash our own name for the bytes, so what is hashed is what is kept.
				const hash = createHash('sha256');
				const head = headKeeper();
				let hashed = 0;
				for await (const chunk of fs.createReadStream(tempPath, { highWaterMark: 1024 * 1024 })) {
					hash.update(chunk as Buffer);
					head.see(chunk as Buffer);
					hashed += (chunk as Buffer).length;
				}
				if (hashed > maxBytes) throw new TooLargeError(maxBytes);
				return { tempPath, sha256: hash.digest('hex'), size: hashed, head: head.head() };
			} catch (err) {
				await fsp.rm(tempPath, { force: true });
				throw err;
			}
		},

		async commitOriginal(temp, extension) {
			// No look first: the key names the bytes (their SHA-256), so a file already there holds
			// the same ones, and the rename swaps it for an identical copy in one step (a reader that
			// has it open keeps reading the old one). One file-system call per file instead of two.
			const key = originalKey(temp.sha256, extension);
			await moveIntoPlace(temp.tempPath, key);
			return key;
		},

		async putDerived(key, bytes) {
			const temp = await tempFile();
			await intoDir(tmpDir, () => fsp.writeFile(temp, bytes, { flag: 'wx' }));
			await moveIntoPlace(temp, key);
		},

		async discard(temp) {
			await fsp.rm(temp.tempPath, { force: true });
		},

		async remove(key) {
			await fsp.rm(absolutePath(key), { force: true });
		},

		async exists(key) {
			return fsp.access(absolutePath(key)).then(
				() => true,
				() => false
			);
		},

		async size(key) {
			return (await fsp.stat(absolutePath(key))).size;
		},

		absolutePath,

		readStream(key, range) {
			return fs.createReadStream(absolutePath(key), range);
		}
	};
}
