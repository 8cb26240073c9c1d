/**
 * The media helper's process entry (see helper-client.ts): it derives media for the worker, one
 * request at a time per message, and answers by request id. Started by the worker with `fork`,
 * at a lower CPU priority; it imports sharp, so the worker process never does.
 */
import { deriveMedia, MediaContentError, type DeriveOptions } from './index';

interface Request {
	id: number;
	file: string;
	options: DeriveOptions;
}

process.on('message', (request: Request) => {
	deriveMedia(request.file, request.options).then(
		(result) => process.send?.({ id: request.id, result }),
		(err: unknown) =>
			process.send?.({
				id: request.id,
				error: { message: err instanceof Error ? err.message : String(err), content: err instanceof MediaContentError }
			})
	);
});
// The worker went away (killed, or stopped without stopping us): nothing left to serve.
process.on('disconnect', () => process.exit(0));
