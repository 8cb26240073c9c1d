/**
 * The worker's generation stages, one file each: submit → poll → download, cancel when a running
 * job is cancelled, and the sweep that repairs what a crash left behind. Submit and poll also take
 * whole batches (batch-submit.ts, batch-poll.ts, batch-complete.ts). worker/handlers.ts
 * routes the generation.* queues here.
 */
export { submitJob } from './submit';
export { submitJobs } from './batch-submit';
export { pollSubmissions } from './batch-poll';
export { downloadResults } from './batch-complete';
export { pollSubmission } from './poll';
export { downloadResult } from './download';
export { cancelSubmission } from './cancel';
export { sweepGeneration } from './sweep';
