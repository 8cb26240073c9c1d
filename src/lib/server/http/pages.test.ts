import { describe, expect, it } from 'vitest';
import { afterSignInPath, signInPath } from './pages';

const at = (path: string) => new URL(path, 'http://127.0.0.1:3000');

describe('afterSignInPath', () => {
	it('follows a same-site path with its query and fragment', () => {
		expect(afterSignInPath(at('/login?redirectTo=%2Fadmin%2Fusers%3Fq%3Dbob%23top'))).toBe('/admin/users?q=bob#top');
	});

	it.each([
		['no target', '/login'],
		['another site', '/login?redirectTo=https%3A%2F%2Fevil.example'],
		['a protocol-relative URL', '/login?redirectTo=%2F%2Fevil.example%2Fx'],
		['a backslash trick', '/login?redirectTo=%2F%5Cevil.example'],
		['a javascript: URL', '/login?redirectTo=javascript%3Aalert(1)'],
		['the sign-in page itself', '/login?redirectTo=%2Flogin'],
		['sign-out', '/login?redirectTo=%2Flogout']
	])('goes to the gallery for %s', (_, path) => {
		expect(afterSignInPath(at(path))).toBe('/gallery');
	});
});

describe('signInPath', () => {
	it('remembers where the person was going', () => {
		expect(signInPath(at('/admin/users?page=2'))).toBe('/login?redirectTo=%2Fadmin%2Fusers%3Fpage%3D2');
	});

	it('needs no target for the home page', () => {
		expect(signInPath(at('/gallery'))).toBe('/login');
	});
});
