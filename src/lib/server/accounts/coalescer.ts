/**
 * Request coalescing ("group commit"): concurrent calls that would run the same kind of statement
 * share one run of it.
 *
 * Calls are grouped by a key (the caller's "shape"). The first call of a key runs at once, alone.
 * Calls of that key arriving while a run is in flight wait in the key's queue; when the run
 * finishes, the next one takes everything queued (up to `maxBatch`) in one go, and so on until the
 * queue is empty. So a lone call pays nothing extra, and a burst of N calls costs a few runs
 * instead of N statements queueing for the same few connections. Every call is answered by a run
 * that started after the call was made, never by one already in flight: an answer is as fresh as
 * if the call had run its own statement.
 *
 * A run answers one result per item, in order; if it throws, every call of that batch gets the
 * error and the queue carries on. Items with the same `identity` never share a run (the second
 * waits for the next one), so a run can treat its items as distinct.
 */
export class Coalescer<Item, Result> {
	private readonly lanes = new Map<string, Lane<Item, Result>>();

	constructor(private readonly options: { maxBatch: number; identity: (item: Item) => string }) {}

	/** Runs `item` in the next batch of `key`; `run` is used if this call starts the key's lane. */
	submit(key: string, item: Item, run: (items: Item[]) => Promise<Result[]>): Promise<Result> {
		return new Promise<Result>((resolve, reject) => {
			const waiting: Waiting<Item, Result> = { item, resolve, reject };
			const lane = this.lanes.get(key);
			if (lane) {
				lane.queue.push(waiting);
				return;
			}
			const started: Lane<Item, Result> = { run, queue: [waiting] };
			this.lanes.set(key, started);
			void this.drain(key, started);
		});
	}

	private async drain(key: string, lane: Lane<Item, Result>): Promise<void> {
		while (lane.queue.length > 0) {
			const batch = this.take(lane);
			try {
				const results = await lane.run(batch.map((w) => w.item));
				batch.forEach((w, i) => w.resolve(results[i]));
			} catch (err) {
				for (const w of batch) w.reject(err);
			}
		}
		this.lanes.delete(key);
	}

	/** The oldest queued calls, up to maxBatch, skipping repeats of an identity already taken. */
	private take(lane: Lane<Item, Result>): Waiting<Item, Result>[] {
		const batch: Waiting<Item, Result>[] = [];
		const rest: Waiting<Item, Result>[] = [];
		const seen = new Set<string>();
		for (const waiting of lane.queue) {
			const identity = this.options.identity(waiting.item);
			if (batch.length < this.options.maxBatch && !seen.has(identity)) {
				seen.add(identity);
				batch.push(waiting);
			} else {
				rest.push(waiting);
			}
		}
		lane.queue = rest;
		return batch;
	}
}

interface Waiting<Item, Result> {
	item: Item;
	resolve(result: Result): void;
	reject(err: unknown): void;
}

interface Lane<Item, Result> {
	run: (items: Item[]) => Promise<Result[]>;
	queue: Waiting<Item, Result>[];
}
