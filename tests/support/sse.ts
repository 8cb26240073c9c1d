/** Reads a Server-Sent Events response over plain fetch, event by event, as EventSource would. */
export interface SseEvent {
	id: string | null;
	event: string;
	data: string;
}

export interface SseConnection {
	status: number;
	headers: Headers;
	/** The next event (comments skipped); rejects after `timeoutMs`. */
	next(timeoutMs?: number): Promise<SseEvent>;
	/** Events arriving within `ms`, e.g. to show that nothing else came. */
	collect(ms: number): Promise<SseEvent[]>;
	/** Comment lines seen so far (heartbeats). */
	comments: string[];
	close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
	const abort = new AbortController();
	const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
	const queue: SseEvent[] = [];
	const waiters: (() => void)[] = [];
	const comments: string[] = [];
	let ended = false;

	if (res.ok && res.body) {
		void (async () => {
			const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
			let buffer = '';
			try {
				for (;;) {
					const { value, done } = await reader.read();
					if (done) break;
					buffer += value;
					let cut: number;
					while ((cut = buffer.indexOf('\n\n')) >= 0) {
						const block = buffer.slice(0, cut);
						buffer = buffer.slice(cut + 2);
						const ev: SseEvent = { id: null, event: 'message', data: '' };
						let isEvent = false;
						for (const line of block.split('\n')) {
							if (line.startsWith(':')) comments.push(line.slice(1).trim());
							else if (line.startsWith('id: ')) ((ev.id = line.slice(4)), (isEvent = true));
							else if (line.startsWith('event: ')) ((ev.event = line.slice(7)), (isEvent = true));
							else if (line.startsWith('data: ')) ((ev.data += line.slice(6)), (isEvent = true));
						}
						if (isEvent) queue.push(ev);
						waiters.splice(0).forEach((w) => w());
					}
				}
			} catch {
				// aborted
			} finally {
				ended = true;
				waiters.splice(0).forEach((w) => w());
			}
		})();
	}

	async function next(timeoutMs = 5000): Promise<SseEvent> {
		const deadline = Date.now() + timeoutMs;
		while (queue.length === 0) {
			if (ended) throw new Error('The event stream ended');
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`No event within ${timeoutMs} ms`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				waiters.push(() => (clearTimeout(timer), resolve()));
			});
		}
		return queue.shift()!;
	}

	return {
		status: res.status,
		headers: res.headers,
		next,
		async collect(ms) {
			await new Promise((r) => setTimeout(r, ms));
			return queue.splice(0);
		},
		comments,
		close: () => abort.abort()
	};
}
