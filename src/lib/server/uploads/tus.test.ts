import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalStorage } from '../storage/local';
import { sweepExpiredTusUploads } from './tus';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-tus-sweep-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** An upload as @tus/file-store keeps it: the bytes so far, and a JSON record beside them. */
function tusUpload(dir: string, id: string, { hoursOld, size, offset }: { hoursOld: number; size: number; offset: number }) {
	fs.writeFileSync(path.join(dir, id), Buffer.alloc(offset, 1));
	const creation_date = new Date(Date.now() - hoursOld * 3600 * 1000).toISOString();
	fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify({ id, size, offset, metadata: {}, creation_date }));
}

describe('sweepExpiredTusUploads', () => {
	it('removes unfinished uploads older than a day, files and records, and keeps fresh ones', async () => {
		const storage = createLocalStorage(root);
		const dir = storage.absolutePath('tus');
		fs.mkdirSync(dir, { recursive: true });
		tusUpload(dir, 'abandoned', { hoursOld: 25, size: 1000, offset: 300 });
		tusUpload(dir, 'in-progress', { hoursOld: 2, size: 1000, offset: 300 });

		expect(await sweepExpiredTusUploads(storage)).toBe(1);
		expect(fs.readdirSync(dir).sort()).toEqual(['in-progress', 'in-progress.json']);
	});

	it('has nothing to do before the first resumable upload', async () => {
		expect(await sweepExpiredTusUploads(createLocalStorage(path.join(root, 'empty')))).toBe(0);
	});
});
