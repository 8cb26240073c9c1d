import { z } from 'zod';
import { ValidationError } from '$lib/server/errors';
import { endpoint, operation } from '$lib/server/http/endpoint';
import { openEventStream } from '$lib/server/events/stream';
import { db, eventHub } from '$lib/server/runtime';

const eventId = z.string().regex(/^\d{1,18}$/, 'An event id is a number.');

export const _operations = {
	GET: operation({
		summary: 'My live events (Server-Sent Events)',
		description:
			'A text/event-stream of job.* and asset.* events: `id: <id>`, `event: <type>`, `data: <job or asset JSON>`. Send Last-Event-ID (or ?last_event_id=) to first receive the events after that id, then live ones, with no gap and no repeat. A comment line every 15 s keeps proxies from closing the connection.',
		tags: ['events'],
		auth: 'user',
		query: z.object({ last_event_id: eventId.optional() }),
		headers: z.object({ 'last-event-id': eventId.optional() }),
		success: {
			status: 200,
			description: 'The event stream',
			contentType: 'text/event-stream',
			schema: z.string().describe('id: 42\\nevent: job.completed\\ndata: {"id": "…", "status": "completed", …}\\n\\n')
		}
	})
};

export const GET = endpoint(_operations.GET, async ({ user, query, event }) => {
	const header = event.request.headers.get('last-event-id');
	const raw = header ?? query.last_event_id ?? null;
	if (raw !== null && !eventId.safeParse(raw).success) {
		throw new ValidationError('Last-Event-ID must be an event id.', { 'Last-Event-ID': ['An event id is a number.'] });
	}
	const stream = openEventStream({
		db: db(),
		hub: eventHub(),
		ownerId: user.id,
		lastEventId: raw === null ? null : Number(raw),
		log: event.locals.log
	});
	return new Response(stream, {
		headers: {
			'content-type': 'text/event-stream; charset=utf-8',
			'cache-control': 'no-cache, no-transform',
			// nginx and similar proxies otherwise buffer the stream.
			'x-accel-buffering': 'no'
		}
	});
});
