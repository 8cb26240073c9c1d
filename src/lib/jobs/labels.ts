/** How operations and job statuses read on the pages. */
export const OPERATIONS = ['text_to_video', 'image_to_video', 'video_extend', 'video_transition', 'fusion'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const OPERATION_LABELS: Record<Operation, string> = {
	text_to_video: 'Text to video',
	image_to_video: 'Image to video',
	video_extend: 'Extend a video',
	video_transition: 'Transition',
	fusion: 'Fusion'
};

export const OPERATION_HINTS: Record<Operation, string> = {
	text_to_video: 'A clip from a prompt.',
	image_to_video: 'Animates one image.',
	video_extend: 'Continues a video for a few more seconds.',
	video_transition: 'Moves from a first frame to a last frame.',
	fusion: 'Combines up to three images into one clip.'
};

export const isOperation = (value: unknown): value is Operation => OPERATIONS.includes(value as Operation);

export const operationLabel = (op: string) => (isOperation(op) ? OPERATION_LABELS[op] : op);

export const JOB_STATUSES = ['pending', 'queued', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatusName = (typeof JOB_STATUSES)[number];

export const STATUS_LABELS: Record<JobStatusName, string> = {
	pending: 'Waiting',
	queued: 'Queued',
	processing: 'Processing',
	completed: 'Done',
	failed: 'Failed',
	cancelled: 'Cancelled'
};

export const statusLabel = (status: string) => STATUS_LABELS[status as JobStatusName] ?? status;

/** Statuses a job can still leave on its own (cancel applies); the rest are final (retry applies to two). */
export const isActive = (status: string) => status === 'pending' || status === 'queued' || status === 'processing';
export const canRetry = (status: string) => status === 'failed' || status === 'cancelled';

/** What a job is called on the pages: its name, else its prompt (shortened), else its operation. */
export function jobTitle(job: { name: string | null; params: Record<string, unknown>; operation_type: string }): string {
	if (job.name) return job.name;
	const prompt = typeof job.params.prompt === 'string' ? job.params.prompt.trim() : '';
	if (prompt) return prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt;
	return operationLabel(job.operation_type);
}
