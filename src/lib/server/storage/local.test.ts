import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalStorage, TooLargeError } from './local';

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
