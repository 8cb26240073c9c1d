/**
 * The worker's generation stages, one file each: submit → poll → download, cancel when a running
 * job is cancelled, and the sweep that repairs what a crash left behind. worker/handlers.ts
 * routes the generation.* queues here.
 */
export { submitJob } from './submit';
export { pollSubmission } from './poll';
export { downloadResult } from './download';
export { cancelSubmission } from './cancel';
export { sweepGeneration } from './sweep';
