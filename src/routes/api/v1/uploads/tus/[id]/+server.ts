import { z } from 'zod';
import { operation } from '$lib/server/http/endpoint';
import { tusEndpoint } from '$lib/server/http/tus-endpoint';

const params = z.object({ id: z.string().describe('The id at the end of the `Location` from the POST.') });

export const _operations = {
	HEAD: operation({
		summary: 'Where a resumable upload stands (tus)',
		description: 'Answers `Upload-Offset` (the bytes received so far) and `Upload-Length`: resume by PATCHing from that offset. Another user’s upload answers 404.',
		tags: ['uploads'],
		auth: 'user',
		params,
		headers: z.object({ 'tus-resumable': z.literal('1.0.0') }),
		success: { status: 200, description: 'The offset, in `Upload-Offset`' },
		errors: ['not_found']
	}),
	PATCH: operation({
		summary: 'Send bytes of a resumable upload (tus)',
		description:
			'Appends the body at `Upload-Offset` (409 if that is not the current offset). The PATCH that brings the last byte completes the upload as /uploads/complete does and answers the asset in headers: `Upload-Asset-Id` with `Upload-Asset-Status: processing`, or, when the user already had the content, `Upload-Asset-Id` of the existing asset with `Upload-Duplicate: true` and `Upload-In-Trash`. Content that is not an accepted image or video answers 415 (the asset is marked failed); the storage quota 413 `quota_exceeded`.',
		tags: ['uploads'],
		auth: 'user',
		params,
		headers: z.object({ 'tus-resumable': z.literal('1.0.0'), 'upload-offset': z.string() }),
		rawBody: {
			contentType: 'application/offset+octet-stream',
			description: 'The next bytes of the file',
			schema: z.string().meta({ format: 'binary' })
		},
		success: { status: 204, description: 'Bytes received; the new offset in `Upload-Offset`' },
		errors: ['not_found', 'conflict', 'payload_too_large', 'unsupported_media_type', 'quota_exceeded']
	}),
	DELETE: operation({
		summary: 'Abandon a resumable upload (tus)',
		description: 'Removes the bytes received so far.',
		tags: ['uploads'],
		auth: 'user',
		params,
		headers: z.object({ 'tus-resumable': z.literal('1.0.0') }),
		success: { status: 204, description: 'Removed' },
		errors: ['not_found']
	}),
	OPTIONS: operation({
		summary: 'tus capabilities',
		tags: ['uploads'],
		auth: 'public',
		params,
		success: { status: 204, description: 'The server’s tus capabilities, in headers' }
	})
};

export const HEAD = tusEndpoint;
export const PATCH = tusEndpoint;
export const DELETE = tusEndpoint;
export const OPTIONS = tusEndpoint;
