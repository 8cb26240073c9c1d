/**
 * How dates, sizes and browsers read on the pages. Dates are shown in UTC so the server-rendered
 * text and the browser agree (quota days are UTC days too).
 */
const GIB = 1024 ** 3;

const dateTime = new Intl.DateTimeFormat('en-GB', {
	day: 'numeric',
	month: 'short',
	year: 'numeric',
	hour: '2-digit',
	minute: '2-digit',
	timeZone: 'UTC'
});

export function formatDateTime(iso: string | null | undefined, never = 'Never'): string {
	if (!iso) return never;
	return `${dateTime.format(new Date(iso))} UTC`;
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
	if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < UNITS.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${Number(value.toFixed(value < 10 ? 2 : 1))} ${UNITS[unit]}`;
}

/** Bytes as a GiB figure for an input box, to at most three decimals (about 1 MiB). */
export function bytesToGib(bytes: number): string {
	return String(Number((bytes / GIB).toFixed(3)));
}

export function gibToBytes(gib: number): number {
	return Math.round(gib * GIB);
}

export function formatCount(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

const BROWSERS: [RegExp, string][] = [
	[/Edg\//, 'Edge'],
	[/OPR\//, 'Opera'],
	[/Firefox\//, 'Firefox'],
	[/HeadlessChrome\//, 'Headless Chrome'],
	[/Chrom(e|ium)\//, 'Chrome'],
	[/Safari\//, 'Safari'],
	[/^curl\//, 'curl'],
	[/^node|undici/i, 'Node.js']
];

const SYSTEMS: [RegExp, string][] = [
	[/Android/, 'Android'],
	[/iPhone|iPad|iPod/, 'iOS'],
	[/Windows/, 'Windows'],
	[/Mac OS X|Macintosh/, 'macOS'],
	[/CrOS/, 'ChromeOS'],
	[/Linux/, 'Linux']
];

/** "Chrome on Linux" from a user-agent string; the raw string stays available beside it. */
export function describeUserAgent(userAgent: string | null): string {
	if (!userAgent) return 'Unknown device';
	const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
	const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
	if (browser && system) return `${browser} on ${system}`;
	return browser ?? system ?? 'Unknown browser';
}
