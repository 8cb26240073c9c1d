/**
 * The browser's upload queue: each file is hashed, checked against what the user already has,
 * then sent with tus (resumable: pause, resume, and picking up an interrupted upload from its
 * offset after a reload, through tus-js-client's fingerprints in localStorage).
 */
import { DetailedError, Upload } from 'tus-js-client';

export type UploadPhase =
	| 'queued'
	| 'hashing'
	| 'checking'
	| 'uploading'
	| 'paused'
	| 'processing'
	| 'duplicate'
	| 'done'
	| 'failed';

/**
 * crypto.subtle.digest has no streaming form: it needs the whole file in memory at once. Past
 * this size we skip the pre-check rather than hold hundreds of MB in the tab; the server still
 * finds a duplicate when the upload completes (and answers the existing asset).
 */
export const PRECHECK_MAX_BYTES = 256 * 1024 * 1024;
/** Bounded chunks: an interruption loses at most one, and proxies with body limits keep working. */
const CHUNK_BYTES = 16 * 1024 * 1024;
const CONCURRENT = 2;
export const ACCEPT = 'image/*,video/*';

let nextId = 0;

export class UploadItem {
	readonly id = `upload-${++nextId}`;
	phase = $state<UploadPhase>('queued');
	bytesSent = $state(0);
	assetId = $state<string | null>(null);
	inTrash = $state(false);
	error = $state<string | null>(null);
	sha256: string | null = null;
	tus: Upload | null = null;

	constructor(readonly file: File) {}

	get percent(): number {
		return this.file.size > 0 ? Math.floor((this.bytesSent / this.file.size) * 100) : 0;
	}

	/** Holding one of the concurrent slots (a paused upload gives its slot up). */
	get active(): boolean {
		return ['hashing', 'checking', 'uploading', 'processing'].includes(this.phase);
	}

	/** What a screen reader hears when the phase changes (not on every percent). */
	get statusText(): string {
		switch (this.phase) {
			case 'queued':
				return 'Waiting';
			case 'hashing':
				return 'Checking the file';
			case 'checking':
				return 'Looking for it in your gallery';
			case 'uploading':
				return `Uploading ${this.percent}%`;
			case 'paused':
				return `Paused at ${this.percent}%`;
			case 'processing':
				return 'Processing';
			case 'duplicate':
				return this.inTrash ? 'Already in your gallery (in the trash)' : 'Already in your gallery';
			case 'done':
				return 'Uploaded';
			case 'failed':
				return `Failed: ${this.error ?? 'unknown error'}`;
		}
	}
}

export interface UploadQueueOptions {
	/** Read when a file starts, so a workspace chosen later applies to later files. */
	workspaceId?: () => string | null | undefined;
	onuploaded?: (assetId: string) => void;
	endpoint?: string;
}

export class UploadQueue {
	items = $state<UploadItem[]>([]);
	/** The latest phase change, for an aria-live region. */
	announcement = $state('');

	constructor(private readonly options: UploadQueueOptions = {}) {}

	add(files: Iterable<File>): void {
		for (const file of files) {
			const item = new UploadItem(file);
			this.items.push(item);
			// The type a browser guesses from the name; an empty one is left to the server's check.
			if (file.type && !/^(image|video)\//.test(file.type)) this.#fail(item, 'Only images and videos can be uploaded.');
		}
		this.#pump();
	}

	pause(item: UploadItem): void {
		if (item.phase !== 'uploading' || !item.tus) return;
		void item.tus.abort();
		this.#set(item, 'paused');
		this.#pump();
	}

	resume(item: UploadItem): void {
		if (item.phase !== 'paused' || !item.tus) return;
		this.#set(item, 'uploading');
		// tus-js-client asks the server for the offset (HEAD) and continues from there.
		item.tus.start();
	}

	retry(item: UploadItem): void {
		if (item.phase !== 'failed') return;
		item.error = null;
		item.tus = null;
		item.bytesSent = 0;
		this.#set(item, 'queued');
		this.#pump();
	}

	remove(item: UploadItem): void {
		if (item.tus && (item.phase === 'uploading' || item.phase === 'paused')) void item.tus.abort(true);
		this.items = this.items.filter((i) => i !== item);
		this.#pump();
	}

	clearFinished(): void {
		this.items = this.items.filter((i) => !['done', 'duplicate', 'failed'].includes(i.phase));
	}

	#set(item: UploadItem, phase: UploadPhase): void {
		item.phase = phase;
		this.announcement = `${item.file.name}: ${item.statusText}`;
	}

	#fail(item: UploadItem, message: string): void {
		item.error = message;
		this.#set(item, 'failed');
	}

	#pump(): void {
		const running = this.items.filter((i) => i.active).length;
		const waiting = this.items.filter((i) => i.phase === 'queued').slice(0, Math.max(0, CONCURRENT - running));
		for (const item of waiting) void this.#run(item);
	}

	async #run(item: UploadItem): Promise<void> {
		try {
			if (item.sha256 === null && item.file.size <= PRECHECK_MAX_BYTES && globalThis.crypto?.subtle) {
				this.#set(item, 'hashing');
				item.sha256 = await sha256Hex(item.file);
			}
			if (item.sha256) {
				this.#set(item, 'checking');
				const existing = await contentExists(item.sha256);
				if (existing.exists) {
					item.assetId = existing.asset_id;
					item.inTrash = existing.in_trash;
					this.#set(item, 'duplicate');
					return;
				}
			}
			if (this.items.includes(item)) this.#send(item);
		} catch (err) {
			this.#fail(item, err instanceof Error ? err.message : String(err));
		} finally {
			this.#pump();
		}
	}

	/** Starts the tus upload; its callbacks finish the item (also after a pause and `resume`). */
	#send(item: UploadItem): void {
		const workspaceId = this.options.workspaceId?.() ?? '';
		const upload = new Upload(item.file, {
			endpoint: new URL(this.options.endpoint ?? '/api/v1/uploads/tus', location.origin).href,
			chunkSize: CHUNK_BYTES,
			retryDelays: [0, 1000, 3000, 5000],
			removeFingerprintOnSuccess: true,
			metadata: { filename: item.file.name, filetype: item.file.type, workspace_id: workspaceId },
			onProgress: (sent, total) => {
				item.bytesSent = sent;
				// Every byte is there: the server now stores and checks the file.
				if (sent === total && item.phase === 'uploading') this.#set(item, 'processing');
			},
			onSuccess: ({ lastResponse }) => {
				item.assetId = lastResponse.getHeader('Upload-Asset-Id') ?? null;
				if (lastResponse.getHeader('Upload-Duplicate') === 'true') {
					item.inTrash = lastResponse.getHeader('Upload-In-Trash') === 'true';
					this.#set(item, 'duplicate');
				} else {
					this.#set(item, 'done');
					if (item.assetId) this.options.onuploaded?.(item.assetId);
				}
				this.#pump();
			},
			onError: (err) => {
				this.#fail(item, messageOf(err));
				this.#pump();
			}
		});
		item.tus = upload;
		this.#set(item, 'uploading');
		void upload
			.findPreviousUploads()
			.then((previous) => {
				if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0]);
				upload.start();
			})
			.catch(() => upload.start());
	}
}

async function sha256Hex(file: File): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
	return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

type Exists = { exists: false } | { exists: true; asset_id: string; in_trash: boolean };

async function contentExists(sha256: string): Promise<Exists> {
	const res = await fetch(`/api/v1/uploads/exists?sha256=${sha256}`, { headers: { accept: 'application/json' } });
	if (!res.ok) throw new Error(await errorMessage(res));
	return (await res.json()) as Exists;
}

async function errorMessage(res: Response): Promise<string> {
	try {
		const body = (await res.json()) as { error?: { message?: string } };
		return body.error?.message ?? `The server answered ${res.status}.`;
	} catch {
		return `The server answered ${res.status}.`;
	}
}

/** The API's error message when the server sent one, else tus-js-client's. */
function messageOf(err: Error): string {
	if (err instanceof DetailedError && err.originalResponse) {
		const status = err.originalResponse.getStatus();
		try {
			const body = JSON.parse(err.originalResponse.getBody()) as { error?: { message?: string } };
			if (body.error?.message) return body.error.message;
		} catch {
			// tus's own errors are plain text
		}
		const text = err.originalResponse.getBody().trim();
		return text ? `${text} (${status})` : `The server answered ${status}.`;
	}
	return navigator.onLine === false ? 'You are offline. Retry when the connection is back.' : 'The upload was interrupted.';
}
