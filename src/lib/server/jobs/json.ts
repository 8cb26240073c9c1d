/** Jobs and their submissions as the JSON API, the pages and the event stream see them. */
import type { Job, ProviderSubmission } from '../db/schema';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function jobJson(job: Job, queuePosition: number | null = null) {
	return {
		id: job.id,
		name: job.name,
		operation_type: job.operationType,
		provider_id: job.providerId,
		params: job.params,
		status: job.status,
		priority: job.priority,
		scheduled_at: iso(job.scheduledAt),
		parent_job_id: job.parentJobId,
		workspace_id: job.workspaceId,
		error_message: job.errorMessage,
		error_class: job.errorClass,
		retry_count: job.retryCount,
		wait_reason: job.waitReason,
		queue_position: job.status === 'queued' ? queuePosition : null,
		progress: job.progress,
		asset_id: job.assetId,
		account_id: job.accountId,
		created_at: job.createdAt.toISOString(),
		queued_at: iso(job.queuedAt),
		started_at: iso(job.startedAt),
		finished_at: iso(job.finishedAt)
	};
}

export type JobJson = ReturnType<typeof jobJson>;

// Credentials are never put in payloads; this is the second line of defence if an adapter slips.
// Over-matching (e.g. "storage_key") costs a redacted value in a debugging view; under-matching leaks.
const SECRET_KEY = /^(key|auth)$|api_?key|[_-]key$|[a-z]Key$|token|secret|password|authorization|cookie|credential|signature/i;

/** A copy with the values of secret-looking keys replaced, at any depth. */
export function redactSecrets(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(redactSecrets);
	if (value && typeof value === 'object') {
		return Object.fromEntries(
			Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(v)])
		);
	}
	return value;
}

export function submissionJson(row: ProviderSubmission, accountLabel: string | null) {
	return {
		id: row.id,
		job_id: row.jobId,
		provider_id: row.providerId,
		account_id: row.accountId,
		account_label: accountLabel,
		payload: redactSecrets(row.payload) as Record<string, unknown>,
		response: redactSecrets(row.response ?? null),
		provider_task_id: row.providerTaskId,
		retry_attempt: row.retryAttempt,
		previous_submission_id: row.previousSubmissionId,
		status: row.status,
		error_class: row.errorClass,
		error_message: row.errorMessage,
		submitted_at: iso(row.submittedAt),
		responded_at: iso(row.respondedAt),
		duration_ms: row.durationMs,
		created_at: row.createdAt.toISOString()
	};
}
