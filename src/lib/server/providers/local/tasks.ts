/**
 * The local renderer's files, under its own folder, so a task outlives the process that took it:
 *   tasks/<id>.json     what was asked and when (written once, rewritten on cancel)
 *   results/<id>.mp4    the finished clip (renamed into place: present means complete)
 *   uploads/<upload id> input files, hard-linked (or copied) from storage
 *   work/<id>-<random>/ one render's scratch (stills, the partial MP4); removed when it ends
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { operationTypes, type OperationType } from '../types';
import { UPLOAD_ID } from './params';

const TaskFile = z.object({
	id: z.uuid(),
	operation: z.enum(operationTypes),
	params: z.record(z.string(), z.unknown()),
	submitted_at: z.iso.datetime(),
	cancelled_at: z.iso.datetime().optional()
});
export type LocalTask = z.infer<typeof TaskFile>;

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class TaskStore {
	constructor(readonly root: string) {}

	private taskPath(id: string): string {
		if (!TASK_ID.test(id)) throw new Error(`Not a local task id: ${id}`);
		return path.join(this.root, 'tasks', `${id}.json`);
	}

	get resultsDir(): string {
		return path.join(this.root, 'results');
	}

	resultPath(id: string): string {
		if (!TASK_ID.test(id)) throw new Error(`Not a local task id: ${id}`);
		return path.join(this.resultsDir, `${id}.mp4`);
	}

	/** The stored input for an upload id, or null for anything that is not one. */
	uploadPath(uploadId: string): string | null {
		return UPLOAD_ID.test(uploadId) ? path.join(this.root, 'uploads', uploadId) : null;
	}

	/** Written to a temporary name and renamed: a reader never sees half a task. */
	private async write(task: LocalTask): Promise<void> {
		const file = this.taskPath(task.id);
		await fsp.mkdir(path.dirname(file), { recursive: true });
		const temp = `${file}.${randomUUID()}.tmp`;
		await fsp.writeFile(temp, JSON.stringify(task));
		await fsp.rename(temp, file);
	}

	async create(operation: OperationType, params: Record<string, unknown>, now: Date): Promise<LocalTask> {
		const task: LocalTask = { id: randomUUID(), operation, params, submitted_at: now.toISOString() };
		await this.write(task);
		return task;
	}

	/** The task, or null when there is none by that id. */
	async read(id: string): Promise<LocalTask | null> {
		if (!TASK_ID.test(id)) return null;
		let text: string;
		try {
			text = await fsp.readFile(this.taskPath(id), 'utf8');
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
			throw err;
		}
		return TaskFile.parse(JSON.parse(text));
	}

	async markCancelled(task: LocalTask, now: Date): Promise<void> {
		if (task.cancelled_at) return;
		await this.write({ ...task, cancelled_at: now.toISOString() });
	}

	async hasResult(id: string): Promise<boolean> {
		return exists(this.resultPath(id));
	}

	/**
	 * A fresh scratch folder for one render of the task. Scratch of this task's earlier renders that
	 * is older than `staleMs` was left by a process that died mid-render: it goes first.
	 */
	async workDir(id: string, staleMs: number, now: Date): Promise<string> {
		const parent = path.join(this.root, 'work');
		await fsp.mkdir(parent, { recursive: true });
		for (const name of await fsp.readdir(parent)) {
			if (!name.startsWith(`${id}-`)) continue;
			const stat = await fsp.stat(path.join(parent, name)).catch(() => null);
			if (stat && now.getTime() - stat.mtimeMs > staleMs) await fsp.rm(path.join(parent, name), { recursive: true, force: true });
		}
		const dir = path.join(parent, `${id}-${randomUUID()}`);
		await fsp.mkdir(dir);
		return dir;
	}

	/** Takes in a copy of an input file (a hard link when storage shares the file system). */
	async addUpload(mediaType: 'image' | 'video', source: string): Promise<string> {
		const id = `${mediaType}-${randomUUID()}`;
		const target = path.join(this.root, 'uploads', id);
		await fsp.mkdir(path.dirname(target), { recursive: true });
		try {
			await fsp.link(source, target);
		} catch {
			await fsp.copyFile(source, target);
		}
		return id;
	}
}

/** How long each kind of file is kept, in ms. */
export interface Retention {
	/** Task files and results: a job polls for minutes, then downloads at once. */
	tasksMs: number;
	/** Input copies: past their announced expiry (the upload cache re-uploads after it). */
	uploadsMs: number;
}

/**
 * Deletes what nobody will ask for again, so the folder stays bounded and a purged asset's bytes
 * (held by a hard link here) do not outlive it by more than the retention. Uploads are aged by
 * ctime: a hard link keeps the original's mtime, but making the link touches the ctime.
 */
export async function sweepStore(store: TaskStore, retention: Retention, now: Date): Promise<number> {
	let removed = 0;
	const sweepDir = async (dir: string, maxAgeMs: number, age: 'mtimeMs' | 'ctimeMs') => {
		let names: string[];
		try {
			names = await fsp.readdir(dir);
		} catch {
			return;
		}
		for (const name of names) {
			const file = path.join(dir, name);
			const stat = await fsp.stat(file).catch(() => null);
			if (!stat?.isFile() || now.getTime() - stat[age] <= maxAgeMs) continue;
			await fsp.rm(file, { force: true });
			removed++;
		}
	};
	await sweepDir(path.join(store.root, 'tasks'), retention.tasksMs, 'mtimeMs');
	await sweepDir(store.resultsDir, retention.tasksMs, 'mtimeMs');
	await sweepDir(path.join(store.root, 'uploads'), retention.uploadsMs, 'ctimeMs');
	return removed;
}

export async function exists(file: string): Promise<boolean> {
	try {
		await fsp.access(file);
		return true;
	} catch {
		return false;
	}
}
