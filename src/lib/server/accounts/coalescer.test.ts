import { describe, expect, it } from 'vitest';
import { Coalescer } from './coalescer';

/** A run that records each batch it is given and answers when `finish` is called. */
function recordingRun() {
	const batches: string[][] = [];
	const pending: (() => void)[] = [];
	const run = (items: string[]) => {
		batches.push(items);
		return new Promise<string[]>((resolve) => pending.push(() => resolve(items.map((item) => `${item}!`))));
	};
	const finish = async () => {
		pending.shift()?.();
		// Let the answers and the next batch's start go through.
		await new Promise((r) => setImmediate(r));
	};
	return { batches, run, finish };
}

describe('Coalescer', () => {
	it('runs a lone call at once, and batches the calls made while a run is in flight', async () => {
		const coalescer = new Coalescer<string, string>({ maxBatch: 10, identity: (item) => item });
		const { batches, run, finish } = recordingRun();
		const answers = ['a', 'b', 'c', 'd'].map((item) => coalescer.submit('k', item, run));
		expect(batches).toEqual([['a']]);
		await finish();
		expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
		await finish();
		expect(await Promise.all(answers)).toEqual(['a!', 'b!', 'c!', 'd!']);
		// The lane is gone once its queue is empty: the next call runs at once again.
		const later = coalescer.submit('k', 'e', run);
		expect(batches).toHaveLength(3);
		await finish();
		expect(await later).toBe('e!');
	});

	it('keeps keys apart, caps a batch, and never puts one identity twice in a batch', async () => {
		const coalescer = new Coalescer<string, string>({ maxBatch: 2, identity: (item) => item });
		const { batches, run, finish } = recordingRun();
		const answers = [
			coalescer.submit('k', 'a', run),
			coalescer.submit('other', 'x', run),
			coalescer.submit('k', 'b', run),
			coalescer.submit('k', 'b', run),
			coalescer.submit('k', 'c', run),
			coalescer.submit('k', 'd', run)
		];
		expect(batches).toEqual([['a'], ['x']]);
		await finish();
		await finish();
		expect(batches).toEqual([['a'], ['x'], ['b', 'c']]);
		await finish();
		expect(batches.at(-1)).toEqual(['b', 'd']);
		await finish();
		expect(await Promise.all(answers)).toEqual(['a!', 'x!', 'b!', 'b!', 'c!', 'd!']);
	});

	it('a failed run fails only its own batch; the queue carries on', async () => {
		const coalescer = new Coalescer<string, string>({ maxBatch: 10, identity: (item) => item });
		let runs = 0;
		const run = async (items: string[]) => {
			await new Promise((r) => setImmediate(r));
			if (runs++ === 0) throw new Error('connection lost');
			return items.map((item) => `${item}!`);
		};
		const settled = await Promise.allSettled(['a', 'b', 'c'].map((item) => coalescer.submit('k', item, run)));
		expect(settled).toEqual([
			{ status: 'rejected', reason: new Error('connection lost') },
			{ status: 'fulfilled', value: 'b!' },
			{ status: 'fulfilled', value: 'c!' }
		]);
	});
});
