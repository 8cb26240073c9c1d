import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as make from '../../../../tests/support/media';
import { sniffContent, sniffFile } from './sniff';

/** An ISO-BMFF ftyp box: size, 'ftyp', major brand, minor version, compatible brands. */
function ftyp(major: string, ...compatible: string[]): Buffer {
	const size = 16 + 4 * compatible.length;
	const box = Buffer.alloc(size);
	box.writeUInt32BE(size, 0);
	box.write('ftyp', 4, 'ascii');
	box.write(major, 8, 'ascii');
	compatible.forEach((brand, i) => box.write(brand, 16 + 4 * i, 'ascii'));
	return Buffer.concat([box, Buffer.alloc(32)]);
}

let dir: string;
beforeAll(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixsim7-sniff-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sniffContent', () => {
	it.each([
		['JPEG', make.jpeg, { mediaType: 'image', mime: 'image/jpeg', extension: 'jpg' }],
		['PNG', make.png, { mediaType: 'image', mime: 'image/png', extension: 'png' }],
		['WebP', make.webp, { mediaType: 'image', mime: 'image/webp', extension: 'webp' }],
		['GIF', make.gif, { mediaType: 'image', mime: 'image/gif', extension: 'gif' }],
		['AVIF', make.avif, { mediaType: 'image', mime: 'image/avif', extension: 'avif' }]
	])('knows %s made by sharp', async (_name, build, expected) => {
		expect(sniffContent(await build())).toEqual(expected);
	});

	it('knows MP4 and WebM made by ffmpeg, reading only the first bytes of the file', async () => {
		expect(await sniffFile(await make.mp4(dir))).toEqual({ mediaType: 'video', mime: 'video/mp4', extension: 'mp4' });
		expect(await sniffFile(await make.webm(dir))).toEqual({ mediaType: 'video', mime: 'video/webm', extension: 'webm' });
	});

	it('tells MOV, MP4 by compatible brand, and Matroska apart', () => {
		expect(sniffContent(ftyp('qt  ', 'qt  '))).toMatchObject({ mime: 'video/quicktime', extension: 'mov' });
		expect(sniffContent(ftyp('xyz1', 'xyz2', 'isom'))).toMatchObject({ mime: 'video/mp4' });
		const mkv = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88]), Buffer.from('matroska'), Buffer.alloc(16)]);
		expect(sniffContent(mkv)).toMatchObject({ mime: 'video/x-matroska', extension: 'mkv' });
	});

	it('refuses audio-only MP4, HEIC (not decodable here) and unknown brands', () => {
		expect(sniffContent(ftyp('M4A ', 'M4A ', 'mp42', 'isom'))).toBeNull();
		expect(sniffContent(ftyp('heic', 'mif1', 'heic'))).toBeNull();
		expect(sniffContent(ftyp('abcd', 'efgh'))).toBeNull();
	});

	it('refuses text, empty input, a bare EBML header and look-alike prefixes', () => {
		expect(sniffContent(make.textFile())).toBeNull();
		expect(sniffContent(new Uint8Array())).toBeNull();
		expect(sniffContent(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]))).toBeNull();
		expect(sniffContent(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBeNull();
		expect(sniffContent(Buffer.from([0xff, 0xd8]))).toBeNull();
		expect(sniffContent(Buffer.from('GIF90a'))).toBeNull();
	});
});
