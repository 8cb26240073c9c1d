import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalStorage, HEAD_BYTES, TooLargeError } from './local';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-storage-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('adoptFile', () => {
	it('takes a finished file on the same disk without copying it, hashes it, and leaves the caller free to delete theirs', async () => {
		const storage = createLocalStorage(path.join(root, 'media'));
		const bytes = randomBytes(3 * 1024 * 1024 + 17);
		fs.mkdirSync(path.join(root, 'media', 'tus'), { recursive: true });
		const finished = path.join(root, 'media', 'tus', 'finished');
		fs.writeFileSync(finished, bytes);

		const temp = await storage.adoptFile(finished, bytes.length);
		expect(temp).toMatchObject({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
		// The same inode under a second name: no byte was written again.
		expect(fs.statSync(temp.tempPath).ino).toBe(fs.statSync(finished).ino);
		fs.rmSync(finished);
		expect(fs.readFileSync(temp.tempPath).equals(bytes)).toBe(true);
		await storage.discard(temp);
	});

	it('refuses a file over the limit and keeps nothing of it', async () => {
		const storage = createLocalStorage(path.join(root, 'media2'));
		const file = path.join(root, 'big');
		fs.writeFileSync(file, randomBytes(2048));
		await expect(storage.adoptFile(file, 2047)).rejects.toBeInstanceOf(TooLargeError);
		expect(fs.existsSync(file)).toBe(true);
		const tmp = path.join(root, 'media2', 'tmp');
		expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([]);
	});
});

describe('local storage directories', () => {
	it('makes a directory removed behind its back again: uploads, adopted files and derived files still land', async () => {
		const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'pixsim7-dirs-'));
		const storage = createLocalStorage(root);
		await storage.putDerived('thumbs/ab/one.webp', Buffer.from('first'));
		// Someone cleans up: the temp directory and the derived files' directory go away.
		await fsp.rm(path.join(root, 'tmp'), { recursive: true, force: true });
		await fsp.rm(path.join(root, 'thumbs'), { recursive: true, force: true });
		await storage.putDerived('thumbs/ab/two.webp', Buffer.from('second'));
		expect(await fsp.readFile(storage.absolutePath('thumbs/ab/two.webp'), 'utf8')).toBe('second');

		await fsp.rm(path.join(root, 'tmp'), { recursive: true, force: true });
		const temp = await storage.writeTemp(Readable.from([Buffer.from('uploaded bytes')]), 1024);
		expect(temp.size).toBe(14);
		const key = await storage.commitOriginal(temp, 'bin');
		expect(await fsp.readFile(storage.absolutePath(key), 'utf8')).toBe('uploaded bytes');

		await fsp.rm(path.join(root, 'tmp'), { recursive: true, force: true });
		const outside = path.join(root, 'outside.bin');
		await fsp.writeFile(outside, 'adopted');
		const adopted = await storage.adoptFile(outside, 1024);
		expect(adopted.size).toBe(7);
		await fsp.rm(root, { recursive: true, force: true });
	});
});

describe('writeTemp and commitOriginal', () => {
	it('keeps the first bytes of what it wrote, across chunks, so a sniff needs no second read', async () => {
		const storage = createLocalStorage(path.join(root, 'media3'));
		const bytes = randomBytes(HEAD_BYTES * 3 + 5);
		// Chunks smaller and larger than what is kept, so the head is assembled from several.
		const chunks = [bytes.subarray(0, 100), bytes.subarray(100, 3000), bytes.subarray(3000)];
		const temp = await storage.writeTemp(Readable.from(chunks), bytes.length);
		expect(temp.head.equals(bytes.subarray(0, HEAD_BYTES))).toBe(true);
		const small = await storage.writeTemp(Readable.from([Buffer.from('tiny')]), 1024);
		expect(small.head.toString()).toBe('tiny');
		const adopted = path.join(root, 'adopt-me');
		fs.writeFileSync(adopted, bytes);
		expect((await storage.adoptFile(adopted, bytes.length)).head.equals(bytes.subarray(0, HEAD_BYTES))).toBe(true);
	});

	it('stores the same bytes committed twice as one file under one key, and consumes both temp files', async () => {
		const storage = createLocalStorage(path.join(root, 'media4'));
		const bytes = randomBytes(10_000);
		const first = await storage.writeTemp(Readable.from([bytes]), bytes.length);
		const second = await storage.writeTemp(Readable.from([bytes]), bytes.length);
		const [a, b] = await Promise.all([storage.commitOriginal(first, 'mp4'), storage.commitOriginal(second, 'mp4')]);
		expect(a).toBe(b);
		expect(a).toBe(`originals/${first.sha256.slice(0, 2)}/${first.sha256}.mp4`);
		expect(fs.readFileSync(storage.absolutePath(a)).equals(bytes)).toBe(true);
		expect(fs.readdirSync(path.dirname(storage.absolutePath(a)))).toEqual([`${first.sha256}.mp4`]);
		expect(fs.readdirSync(path.join(root, 'media4', 'tmp'))).toEqual([]);
	});
});
