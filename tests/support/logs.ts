/** Reading the structured log a child process (app server or worker) wrote. */
import { expect } from 'vitest';
import { z } from 'zod';

export const LogLine = z.looseObject({
	level: z.number(),
	time: z.string(),
	service: z.string(),
	msg: z.string(),
	request_id: z.string().optional(),
	user_id: z.string().optional(),
	status: z.number().optional()
});
export type LogLine = z.infer<typeof LogLine>;

/** adapter-node prints this one plain line itself when it starts listening. */
const ADAPTER_BANNER = /^Listening on https?:\/\/\S+$/;

/** Every line of the output as a log event; throws on a line that is not one. */
export function parseLog(output: string): LogLine[] {
	const lines: LogLine[] = [];
	for (const raw of output.split('\n')) {
		if (raw.trim() === '' || ADAPTER_BANNER.test(raw)) continue;
		let value: unknown;
		try {
			value = JSON.parse(raw);
		} catch {
			throw new Error(`Not a JSON log line: ${raw}`);
		}
		const parsed = LogLine.safeParse(value);
		if (!parsed.success) throw new Error(`Not a log event: ${raw}\n${parsed.error.message}`);
		lines.push(parsed.data);
	}
	return lines;
}

/** Waits until a log event matches (output arrives through a pipe, after the response). */
export async function waitForLog(
	output: () => string,
	predicate: (line: LogLine) => boolean,
	timeoutMs = 10_000
): Promise<LogLine> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const hit = parseLog(output()).find(predicate);
		if (hit) return hit;
		if (Date.now() > deadline) throw new Error(`No matching log line within ${timeoutMs} ms:\n${output()}`);
		await new Promise((r) => setTimeout(r, 25));
	}
}

/** A 500 is a bug: no request answered one and nothing was logged at error level or above. */
export function expectNoServerErrors(output: string): void {
	const bad = parseLog(output).filter((l) => l.level >= 50 || (l.status ?? 0) >= 500);
	expect(bad, 'server errors in the log').toEqual([]);
}
