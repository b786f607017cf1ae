// Which files of a picked or dropped folder the studio needs, before any is
// sent: a COLMAP project needs its sparse model and its images, a
// transforms.json capture the file and what it names, a folder of photos its
// photos. The rest (COLMAP's database, dense/ outputs, depth maps, hidden
// files) stays on the user's disk. The layout rules mirror the core's
// (main/core/posed-import: detectPosedCapture, findColmapModel), which judges
// the uploaded folder again; the bounds are the contract's (checkFolderUpload).

import type { PickedFolder } from '../../../main/common/api';
import { StudioError } from '../../../main/common/errors';
import {
  FOLDER_UPLOAD_LIMITS,
  checkFolderUpload,
  type FolderUploadLimits,
} from '../../../main/common/folder-upload';

const PHOTO = /\.(jpe?g|png|webp|heic|heif|bmp|tiff?)$/i;
/** transforms.json is camera metadata: beyond this it is not read here (the core refuses it too). */
const MAX_TRANSFORMS_BYTES = 64 * 2 ** 20;
const COLMAP_MODEL_DIRS = ['sparse/0', 'sparse', ''];
const COLMAP_MODEL_FILES = ['cameras', 'images', 'points3D'];

export type FolderUploadKind = 'colmap' | 'nerfstudio' | 'photos';

export interface FolderUploadPlan {
  kind: FolderUploadKind;
  /** The files to send (paths relative to the folder). */
  folder: PickedFolder;
  totalBytes: number;
  /** What was found, for the upload status: "COLMAP model (sparse/0) · 8 images". */
  summary: string;
}

type Entry = PickedFolder['files'][number];

/** Hidden files and folders (.DS_Store, .git) and macOS zip debris are never sent. */
function isHidden(path: string): boolean {
  return path.split('/').some((segment) => segment.startsWith('.') || segment === '__MACOSX');
}

const plural = (n: number, one: string, many: string): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** "./images//a.jpg" -> "images/a.jpg"; null for a name leading out of the folder. */
function normalise(path: string): string | null {
  const parts: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return null;
    parts.push(part);
  }
  return parts.length > 0 ? parts.join('/') : null;
}

function colmapPlan(
  folderName: string,
  byPath: Map<string, Entry>,
): Omit<FolderUploadPlan, 'totalBytes'> | null {
  for (const dir of COLMAP_MODEL_DIRS) {
    const prefix = dir ? `${dir}/` : '';
    const has = (name: string) => byPath.has(`${prefix}${name}`);
    const binary = has('cameras.bin') && has('images.bin');
    if (!binary && !(has('cameras.txt') && has('images.txt'))) continue;
    const model = COLMAP_MODEL_FILES.flatMap((name) =>
      ['bin', 'txt'].flatMap((ext) => byPath.get(`${prefix}${name}.${ext}`) ?? []),
    );
    // The core reads images from <folder>/images when there is one, else from the folder itself.
    const hasImagesDir = [...byPath.keys()].some((path) => path.startsWith('images/'));
    const images = [...byPath.values()].filter(({ path }) =>
      !PHOTO.test(path)
        ? false
        : hasImagesDir
          ? path.startsWith('images/')
          : !(prefix && path.startsWith(prefix)) && !path.startsWith('dense/'),
    );
    if (images.length === 0) {
      throw new StudioError(
        'unsupported-file',
        `The COLMAP project "${folderName}" has no images beside its model.`,
        'Pick the project folder that holds both sparse/ and images/.',
      );
    }
    const where = `${binary ? 'binary' : 'text'}${dir ? `, ${dir}` : ''}`;
    return {
      kind: 'colmap',
      folder: { name: folderName, files: [...model, ...images] },
      summary: `COLMAP model (${where}) · ${plural(images.length, 'image', 'images')}`,
    };
  }
  return null;
}

async function transformsPlan(
  folderName: string,
  byPath: Map<string, Entry>,
  transforms: Entry,
): Promise<Omit<FolderUploadPlan, 'totalBytes'>> {
  const files: Entry[] = [transforms];
  let named: unknown[] = [];
  if (transforms.file.size <= MAX_TRANSFORMS_BYTES) {
    try {
      const json = JSON.parse(await transforms.file.text()) as { frames?: unknown; ply_file_path?: unknown };
      named = [
        ...(Array.isArray(json.frames)
          ? json.frames.map((frame: unknown) => (frame as { file_path?: unknown } | null)?.file_path)
          : []),
        json.ply_file_path,
      ];
    } catch {
      // Not JSON: the core reads transforms.json again and says what is wrong with it.
    }
  }
  let images = 0;
  const seen = new Set<string>();
  for (const name of named) {
    if (typeof name !== 'string') continue;
    const path = normalise(name);
    const entry = path === null ? undefined : byPath.get(path);
    if (!entry) {
      throw new StudioError(
        'unreadable-path',
        `transforms.json names "${name.slice(0, 200)}", which is not in the folder "${folderName}".`,
        'Pick the folder that holds transforms.json together with its images, as the capture app exported it.',
      );
    }
    if (seen.has(entry.path)) continue;
    seen.add(entry.path);
    files.push(entry);
    if (PHOTO.test(entry.path)) images++;
  }
  return {
    kind: 'nerfstudio',
    folder: { name: folderName, files },
    summary: `transforms.json · ${plural(images, 'image', 'images')}`,
  };
}

/**
 * The files of `folder` an import needs, what kind of capture it is, and a
 * check of the upload bounds (a typed StudioError before anything is sent).
 */
export async function planFolderUpload(
  folder: PickedFolder,
  limits: FolderUploadLimits = FOLDER_UPLOAD_LIMITS,
): Promise<FolderUploadPlan> {
  const visible = folder.files.filter(({ path }) => !isHidden(path));
  const byPath = new Map(visible.map((entry) => [entry.path, entry]));
  const transforms = byPath.get('transforms.json');
  const plan =
    (transforms ? await transformsPlan(folder.name, byPath, transforms) : null) ??
    colmapPlan(folder.name, byPath) ??
    photosPlan(folder.name, visible);
  const totalBytes = checkFolderUpload(
    folder.name,
    plan.folder.files.map(({ path, file }) => ({ path, bytes: file.size })),
    limits,
  );
  return { ...plan, totalBytes };
}

function photosPlan(folderName: string, visible: Entry[]): Omit<FolderUploadPlan, 'totalBytes'> {
  // Like a folder imported by path: the photos at its top level.
  const photos = visible.filter(({ path }) => !path.includes('/') && PHOTO.test(path));
  if (photos.length === 0) {
    throw new StudioError(
      'unsupported-file',
      `The folder "${folderName}" holds no photos, COLMAP project or transforms.json.`,
      'Choose a folder of JPEG/PNG photos, a COLMAP project (sparse/0 + images/), or a folder with a transforms.json.',
    );
  }
  return {
    kind: 'photos',
    folder: { name: folderName, files: photos },
    summary: plural(photos.length, 'photo', 'photos'),
  };
}
