/**
 * Resumable browser uploads with the tus protocol (the only module that knows @tus/*). Bytes
 * collect under <FS_ROOT>/tus until the last PATCH; then `uploadFromFile` takes the file through
 * the same staging and `finishUpload` as every other path, and the tus copy is removed. The final
 * PATCH answers the asset in headers: `Upload-Asset-Id`, and `Upload-Duplicate: true` when the
 * user already had the content. Unfinished uploads expire after a day; the worker sweeps their files
 * away on a schedule (`sweepExpiredTusUploads`), so the web process never pauses a request for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server, type Upload } from '@tus/server';
import { z } from 'zod';
import type { User } from '../db/schema';
import type { Storage } from '../storage/local';
import { AppError, NotFoundError, UnauthorizedError } from '../errors';
import { assertUploadAllowed, uploadFromFile, type UploadDeps } from './service';

export const TUS_PATH = '/api/v1/uploads/tus';

export interface TusRequestContext {
	/** Null only for OPTIONS, which needs no one. */
	user: User | null;
	/** Maps an error to the API's JSON error response (logged as every endpoint logs it). */
	toResponse: (err: unknown) => Response;
}

interface RequestState extends TusRequestContext {
	failure?: Response;
}

export interface TusUploads {
	handle(request: Request, context: TusRequestContext): Promise<Response>;
}

const workspaceIdSchema = z.uuid();
/** An upload left unfinished this long is gone (HEAD answers 410; the client starts afresh). */
const EXPIRY_MS = 24 * 60 * 60 * 1000;

const tusDirectory = (storage: Storage) => storage.absolutePath('tus');

/**
 * Deletes the files of unfinished uploads past their expiry (they hold disk, never quota) and
 * answers how many went. The worker runs it on a schedule.
 */
export async function sweepExpiredTusUploads(storage: Storage): Promise<number> {
	const directory = tusDirectory(storage);
	if (!fs.existsSync(directory)) return 0;
	return new FileStore({ directory, expirationPeriodInMilliseconds: EXPIRY_MS }).deleteExpired();
}

export function createTusUploads(deps: () => UploadDeps): TusUploads {
	const { storage, config } = deps();
	const directory = tusDirectory(storage);
	const store = new FileStore({ directory, expirationPeriodInMilliseconds: EXPIRY_MS });
	// The hooks receive the Request the route handed in, so per-request state (who is asking) is
	// keyed by it rather than smuggled through headers a client could forge.
	const requests = new WeakMap<Request, RequestState>();

	function stateOf(req: Request): RequestState & { user: User } {
		const state = requests.get(req);
		if (!state?.user) throw new UnauthorizedError('A valid bearer token or session is required.');
		return state as RequestState & { user: User };
	}

	const server = new Server({
		path: TUS_PATH,
		datastore: store,
		maxSize: config.MAX_UPLOAD_MB * 1024 * 1024,
		relativeLocation: true,
		// Same-origin only: no CORS headers, so another site's script cannot drive an upload.
		allowedOrigins: () => false,

		async onIncomingRequest(req, id) {
			const { user } = stateOf(req);
			if (req.method === 'POST') return;
			// Another user's upload id is as unknown as one that never existed.
			const upload = await store.getUpload(id).catch(() => null);
			if (!upload || upload.metadata?.owner_id !== user.id) throw new NotFoundError('Upload');
		},

		async onUploadCreate(req, upload) {
			const { user } = stateOf(req);
			const metadata = upload.metadata ?? {};
			const workspaceId = metadata.workspace_id || null;
			if (workspaceId && !workspaceIdSchema.safeParse(workspaceId).success) throw new NotFoundError('Workspace');
			// Refuse what cannot succeed before any byte is sent; the checks run again at the end.
			await assertUploadAllowed(deps().db, user, { size: upload.size ?? 0, workspaceId }, config);
			return { metadata: { ...metadata, workspace_id: workspaceId ?? '', owner_id: user.id } };
		},

		async onUploadFinish(req, upload) {
			const { user } = stateOf(req);
			try {
				const result = await uploadFromFile(deps(), user, fileOf(upload));
				const headers: Record<string, string> = result.duplicate
					? { 'Upload-Asset-Id': result.assetId, 'Upload-Duplicate': 'true', 'Upload-In-Trash': String(result.inTrash) }
					: { 'Upload-Asset-Id': result.asset.id, 'Upload-Asset-Status': result.asset.status };
				return { headers };
			} finally {
				// The bytes now live in staging or storage (or were refused): the tus copy goes.
				await store.remove(upload.id).catch(() => {});
			}
		},

		onResponseError(req, err) {
			// tus's own protocol errors ({status_code, body}) stay as they are; ours get the API's
			// error shape, made by the route, which `handle` swaps in.
			const isTusError = !(err instanceof Error) || 'status_code' in err;
			if (isTusError && !(err instanceof AppError)) return undefined;
			const state = requests.get(req);
			if (!state) return undefined;
			state.failure = state.toResponse(err);
			return { status_code: state.failure.status, body: '' };
		}
	});

	function fileOf(upload: Upload) {
		const metadata = upload.metadata ?? {};
		return {
			path: path.join(directory, upload.id),
			filename: metadata.filename || 'upload',
			declaredMime: metadata.filetype || '',
			workspaceId: metadata.workspace_id || null
		};
	}

	return {
		async handle(request, context) {
			const state: RequestState = { ...context };
			requests.set(request, state);
			const response = await server.handleWeb(request);
			if (!state.failure) return response;
			const failure = state.failure;
			failure.headers.set('Tus-Resumable', '1.0.0');
			return failure;
		}
	};
}
