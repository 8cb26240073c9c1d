/**
 * The worker's generation stages. Being written (issue 4): each throws until its stage exists, so
 * a job sent early fails loudly in the worker's log instead of vanishing.
 */
import type { HandlerContext } from '../worker/handlers';

const notBuilt = (stage: string) => new Error(`generation.${stage} is not built yet`);

export async function submitJob(_ctx: HandlerContext, _jobId: string): Promise<Record<string, unknown>> {
	throw notBuilt('submit');
}
export async function pollSubmission(_ctx: HandlerContext, _submissionId: string): Promise<Record<string, unknown>> {
	throw notBuilt('poll');
}
export async function downloadResult(_ctx: HandlerContext, _submissionId: string): Promise<Record<string, unknown>> {
	throw notBuilt('download');
}
export async function cancelSubmission(_ctx: HandlerContext, _submissionId: string): Promise<Record<string, unknown>> {
	throw notBuilt('cancel');
}
export async function sweepGeneration(_ctx: HandlerContext): Promise<Record<string, unknown>> {
	return {};
}
