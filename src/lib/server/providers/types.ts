/**
 * What every video provider adapter implements. The worker's pipeline (generation/) only talks
 * to providers through this interface; nothing outside providers/<id>/ knows a provider's HTTP
 * contract.
 */
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { OperationType } from '../db/schema';
import type { ProviderUpload } from '../provider-uploads/service';

export type { OperationType };
export const operationTypes = [
	'text_to_video',
	'image_to_video',
	'video_extend',
	'video_transition',
	'fusion'
] as const satisfies readonly OperationType[];

/**
 * How a failure is handled:
 * - request: bad input or moderation; fail the job at once, never try another account.
 * - account: auth, balance or concurrency on this account; cool it down or mark it exhausted,
 *   then try another account.
 * - transient: outage, overload, timeout; retry with backoff.
 */
export type ProviderErrorClass = 'request' | 'account' | 'transient';

/** An error an adapter raises with its class decided (classifyError answers `cls` for these). */
export class ProviderError extends Error {
	override name = 'ProviderError';
	constructor(
		readonly cls: ProviderErrorClass,
		message: string,
		readonly details: {
			/** The provider's own code, e.g. Pixverse ErrCode 500090. */
			code?: string | number;
			/** Account-class only: the account has no credits left (mark it exhausted, not cooled down). */
			exhausted?: boolean;
			/** Request-class only: the provider refunded the credits (moderation). */
			refunded?: boolean;
			/** The cached upload id was rejected (e.g. Pixverse 400032): forget it and re-upload once. */
			staleUpload?: boolean;
			/** The raw response, recorded in the submission ledger. */
			response?: unknown;
		} = {}
	) {
		super(message);
	}
}

/** An account as an adapter sees it: its id and decrypted credentials (never logged). */
export interface AccountContext {
	id: string;
	credentials: Record<string, string>;
}

/** A stored file handed to uploadAsset. */
export interface InputFile {
	assetId: string;
	path: string;
	mime: string;
	mediaType: 'image' | 'video';
}

/** The provider's id for each input asset, resolved through the upload cache (asset id → upload id). */
export type InputUploads = Record<string, string>;

export interface OperationSpec<S extends z.ZodType = z.ZodType> {
	/** The parameters a user sends for this operation (asset inputs by id: image_asset_id, ...). */
	params: S;
	/** Credits this job is expected to cost; null when the provider bills nothing we track. */
	estimateCost(params: z.infer<S>): { creditType: string; amount: number } | null;
}

export type TaskState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskStatus {
	state: TaskState;
	/** 0..1 while running, when the provider says. */
	progress?: number;
	/** Where the result can be downloaded (may be short-lived: download at once). */
	resultUrls?: string[];
	/** Set when state is failed. */
	error?: ProviderError;
	/** The provider's raw answer, for the ledger and logs. */
	raw?: unknown;
}

export interface Provider {
	id: string;
	label: string;
	/**
	 * False for providers that need no credentials (local): they still go through the pool with a
	 * pseudo-account, so selection, slots and the ledger work the same way.
	 */
	requiresCredentials: boolean;
	/** How often to poll a running task, and when to give up on it. */
	pollIntervalMs: number;
	deadlineMs: number;
	operations: Partial<Record<OperationType, OperationSpec>>;
	/** Asset ids the job's params reference, with their lineage relation (source_image, first_frame, ...). */
	inputAssets(operation: OperationType, params: Record<string, unknown>): { assetId: string; relation: string }[];
	/** The exact payload for submit, from validated params and the inputs' provider upload ids. */
	mapParameters(operation: OperationType, params: Record<string, unknown>, uploads: InputUploads): Record<string, unknown>;
	submit(account: AccountContext, operation: OperationType, mapped: Record<string, unknown>): Promise<{ taskId: string; response: unknown }>;
	checkStatus(account: AccountContext, taskId: string): Promise<TaskStatus>;
	uploadAsset(account: AccountContext, file: InputFile): Promise<ProviderUpload>;
	/** Absent when the provider cannot cancel. */
	cancel?(account: AccountContext, taskId: string): Promise<void>;
	/** Opens a result for streaming into storage (HTTP GET for remote providers). */
	openResult(account: AccountContext, url: string): Promise<Readable>;
	/** Any thrown value → its class (a ProviderError keeps its own; network errors are transient). */
	classifyError(err: unknown): ProviderErrorClass;
}
