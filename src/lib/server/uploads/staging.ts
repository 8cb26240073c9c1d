/**
 * Bytes received for an upload wait in staging until the upload is completed: the data file and,
 * written after it, a small record of its digest and size. Both are written atomically, so a
 * record present means all bytes of that PUT arrived.
 */
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Storage, StoredTemp, TempFile } from '../storage/local';

const dataKey = (assetId: string) => `staging/${assetId}.bin`;
const recordKey = (assetId: string) => `staging/${assetId}.json`;

export interface Staged extends TempFile {
	assetId: string;
}

/** Streams a body into staging (replacing an earlier attempt); throws TooLargeError past maxBytes. */
export async function stageBytes(
	storage: Storage,
	assetId: string,
	body: Readable | AsyncIterable<Uint8Array>,
	maxBytes: number
): Promise<Staged> {
	return stageTemp(storage, assetId, await storage.writeTemp(body, maxBytes));
}

/** Stages a finished file on disk without writing its bytes again (see Storage.adoptFile). */
export async function stageFile(storage: Storage, assetId: string, filePath: string, maxBytes: number): Promise<Staged> {
	return stageTemp(storage, assetId, await storage.adoptFile(filePath, maxBytes));
}

async function stageTemp(storage: Storage, assetId: string, temp: StoredTemp): Promise<Staged> {
	await storage.remove(recordKey(assetId));
	await fsp.mkdir(storage.absolutePath('staging'), { recursive: true });
	await fsp.rename(temp.tempPath, storage.absolutePath(dataKey(assetId)));
	const staged = { assetId, tempPath: storage.absolutePath(dataKey(assetId)), sha256: temp.sha256, size: temp.size };
	await storage.putDerived(recordKey(assetId), Buffer.from(JSON.stringify({ sha256: staged.sha256, size: staged.size })));
	return staged;
}

/** What arrived for an upload, or null when no complete PUT has landed. */
export async function readStaged(storage: Storage, assetId: string): Promise<Staged | null> {
	try {
		const record = JSON.parse(await fsp.readFile(storage.absolutePath(recordKey(assetId)), 'utf8')) as {
			sha256: string;
			size: number;
		};
		return { assetId, tempPath: storage.absolutePath(dataKey(assetId)), sha256: record.sha256, size: record.size };
	} catch {
		return null;
	}
}

export async function clearStaged(storage: Storage, assetId: string): Promise<void> {
	await storage.remove(recordKey(assetId));
	await storage.remove(dataKey(assetId));
}
