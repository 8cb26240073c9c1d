import { z } from 'zod';
import { isoDate, uuid } from './common';

export const OperationType = z.enum(['text_to_video', 'image_to_video', 'video_extend', 'video_transition', 'fusion']);
export const JobStatus = z.enum(['pending', 'queued', 'processing', 'completed', 'failed', 'cancelled']);
export const JobErrorClass = z.enum(['request', 'account', 'transient', 'internal', 'cancelled', 'timeout']);

export const JobJson = z
	.object({
		id: uuid,
		name: z.string().nullable(),
		operation_type: OperationType,
		provider_id: z.string(),
		params: z.record(z.string(), z.unknown()),
		status: JobStatus,
		priority: z.number().int().describe('0 runs first, 10 last'),
		scheduled_at: isoDate.nullable(),
		parent_job_id: uuid.nullable(),
		workspace_id: uuid.nullable(),
		error_message: z.string().nullable(),
		error_class: JobErrorClass.nullable(),
		retry_count: z.number().int(),
		wait_reason: z.string().nullable().describe('Why a queued job is not running yet'),
		queue_position: z.number().int().nullable().describe('1-based place among all queued jobs while queued; null otherwise'),
		progress: z.number().nullable(),
		asset_id: uuid.nullable().describe('The result, once completed'),
		account_id: uuid.nullable(),
		created_at: isoDate,
		queued_at: isoDate.nullable(),
		started_at: isoDate.nullable(),
		finished_at: isoDate.nullable()
	})
	.meta({ id: 'Job' });

export const CreateJobRequest = z
	.object({
		operation_type: OperationType,
		provider_id: z.string().trim().min(1, 'Choose a provider.').max(100),
		params: z
			.record(z.string(), z.unknown())
			.describe(
				"The provider's parameters for this operation (GET /api/v1/providers). Input assets by id. `parent_asset_as` names the param that receives the parent job's result asset."
			),
		workspace_id: uuid.nullable().optional(),
		name: z.string().trim().max(200, 'Name is too long (at most 200 characters).').nullable().optional(),
		priority: z.number().int().min(0, 'Priority runs from 0 to 10.').max(10, 'Priority runs from 0 to 10.').default(5),
		scheduled_at: isoDate.nullable().optional().describe('Start no earlier than this; the job stays pending until then'),
		parent_job_id: uuid.nullable().optional().describe('Start only once this job of mine has completed')
	})
	.meta({ id: 'CreateJobRequest' });

export const ListJobsQuery = z.object({
	status: JobStatus.optional(),
	workspace_id: uuid.optional(),
	operation_type: OperationType.optional(),
	provider_id: z.string().trim().min(1).max(100).optional(),
	q: z.string().trim().max(200).optional().describe('Searches names and prompts (case-insensitive substring)'),
	cursor: z.string().max(200).optional().describe('next_cursor from the previous page'),
	limit: z.coerce.number().int().min(1).max(200).default(50)
});

export const JobPage = z.object({ items: z.array(JobJson), next_cursor: z.string().nullable() }).meta({ id: 'JobPage' });

export const SubmissionJson = z
	.object({
		id: uuid,
		job_id: uuid,
		provider_id: z.string(),
		account_id: uuid.nullable(),
		account_label: z.string().nullable(),
		payload: z.record(z.string(), z.unknown()).describe('What was sent to the provider (secrets redacted)'),
		response: z.unknown(),
		provider_task_id: z.string().nullable(),
		retry_attempt: z.number().int(),
		previous_submission_id: uuid.nullable(),
		status: z.enum(['submitting', 'submitted', 'succeeded', 'failed', 'cancelled']),
		error_class: JobErrorClass.nullable(),
		error_message: z.string().nullable(),
		submitted_at: isoDate.nullable(),
		responded_at: isoDate.nullable(),
		duration_ms: z.number().int().nullable(),
		created_at: isoDate
	})
	.meta({ id: 'ProviderSubmission' });

export const SubmissionList = z.object({ items: z.array(SubmissionJson) }).meta({ id: 'ProviderSubmissionList' });
