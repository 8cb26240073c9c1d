import { z } from 'zod';
import { operation } from '$lib/server/http/endpoint';
import { tusEndpoint } from '$lib/server/http/tus-endpoint';

const tusHeaders = z.object({
	'tus-resumable': z.literal('1.0.0'),
	'upload-length': z.string().describe('The file’s size in bytes (at most MAX_UPLOAD_MB MiB).'),
	'upload-metadata': z
		.string()
		.optional()
		.describe('tus metadata: `filename`, `filetype` and `workspace_id`, each base64-encoded.')
});

export const _operations = {
	POST: operation({
		summary: 'Start a resumable upload (tus)',
		description:
			'The tus 1.0 creation extension, for browsers (`tus-js-client`): answers 201 with `Location`, the upload’s URL, to which the bytes go by PATCH. A size over MAX_UPLOAD_MB answers 413, over the storage quota 413 `quota_exceeded`, another user’s workspace 404. Session cookie or bearer token.',
		tags: ['uploads'],
		auth: 'user',
		headers: tusHeaders,
		success: { status: 201, description: 'Upload created; its URL is in `Location`' },
		errors: ['not_found', 'payload_too_large', 'quota_exceeded']
	}),
	OPTIONS: operation({
		summary: 'tus capabilities',
		description: 'Answers `Tus-Version`, `Tus-Extension` and `Tus-Max-Size`.',
		tags: ['uploads'],
		auth: 'public',
		success: { status: 204, description: 'The server’s tus capabilities, in headers' }
	})
};

export const POST = tusEndpoint;
export const OPTIONS = tusEndpoint;
