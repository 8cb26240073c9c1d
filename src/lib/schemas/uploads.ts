import { z } from 'zod';
import { uuid } from './common';

/** Declared types we accept; the bytes are checked again by their magic numbers. */
export const ACCEPTED_MIME_TYPES = [
	'image/jpeg',
	'image/png',
	'image/webp',
	'image/gif',
	'image/avif',
	'video/mp4',
	'video/quicktime',
	'video/webm',
	'video/x-matroska'
] as const;

const sha256Hex = z
	.string()
	.regex(/^[0-9a-fA-F]{64}$/, 'Must be a SHA-256 digest in hex (64 characters).')
	.transform((v) => v.toLowerCase());

export const InitUploadRequest = z
	.object({
		filename: z.string().trim().min(1, 'Give the file a name.').max(255, 'The filename is too long.'),
		size_bytes: z.number().int().min(1, 'The file is empty.'),
		mime: z.string().trim().toLowerCase().min(1).max(100),
		workspace_id: uuid.nullable().optional(),
		sha256: sha256Hex.optional()
	})
	.meta({ id: 'InitUploadRequest' });

export const InitUploadResponse = z
	.object({
		asset_id: uuid,
		upload_token: z.string().describe('Send it as X-Upload-Token with the PUT of the bytes.'),
		upload_url: z.string()
	})
	.meta({ id: 'InitUploadResponse' });

export const DuplicateUploadResponse = z
	.object({ asset_id: uuid, duplicate: z.literal(true), in_trash: z.boolean() })
	.meta({ id: 'DuplicateUpload' });

export const CompleteUploadRequest = z.object({ asset_id: uuid }).meta({ id: 'CompleteUploadRequest' });

export const ProcessingUploadResponse = z
	.object({ asset_id: uuid, status: z.literal('processing') })
	.meta({ id: 'ProcessingUpload' });

export const PutUploadResponse = z
	.object({ asset_id: uuid, received_bytes: z.number().int(), sha256: z.string() })
	.meta({ id: 'PutUploadResponse' });

export const ContentExistsQuery = z.object({ sha256: sha256Hex }).meta({ id: 'ContentExistsQuery' });

export const ContentExistsResponse = z
	.discriminatedUnion('exists', [
		z.object({ exists: z.literal(false) }),
		z.object({ exists: z.literal(true), asset_id: uuid, in_trash: z.boolean() })
	])
	.meta({ id: 'ContentExists' });
export type ContentExistsResponse = z.infer<typeof ContentExistsResponse>;
