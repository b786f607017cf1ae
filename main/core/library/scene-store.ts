// Scenes, their source, frames, point cloud, cameras and reconstructions.
// Every scene write is one transaction: a scene becomes visible to readers only
// when its frames and points are all in, and a kill mid-write leaves the old
// state (see test/unit/core/library/library-crash.test.ts).

import type Database from 'better-sqlite3';
import type {
  CameraInfo,
  FrameInfo,
  ReconstructionInfo,
  SceneDetail,
  SceneKind,
  SceneSummary,
  SourceInfo,
} from '../../common/domain';
import { editSchema, sceneSettingsOf, type Edit, type SceneSettingEdit } from '../../common/edit-stack';
import type { IngestedFrame } from '../ingest/types';
import { bytesOf, chunksOf, DEFAULT_CHUNK_BYTES, float32Of, joinChunks, uint8Of } from './blob-arrays';
import { assertStorablePointCount } from './point-capacity';
import { newId, nowIso } from './ids';

/** A frame as ingest hands it over (main/core/ingest/types.ts) is what the library stores. */
export type NewFrame = IngestedFrame;

export interface ScenePoints {
  /** float32 xyz, scene units, OpenCV axes. */
  positions: Float32Array;
  /** uint8 rgb per point, or null when the cloud has no colours. */
  colors: Uint8Array | null;
  count: number;
}

export interface NewScene {
  name: string;
  kind: SceneKind;
  source: SourceInfo | null;
  frames: NewFrame[];
  points?: ScenePoints | null;
}

export interface NewReconstruction {
  modelId: string;
  precision: string;
  executionProvider: string;
  frameCount: number;
  mapWidth: number;
  mapHeight: number;
  timingsMs: Record<string, number>;
  /** N x 4 x 4 row-major camera-to-world. */
  worldFromCamera: Float32Array;
  /** N x H x W x 3 points in each frame's own camera. */
  localPointMaps: Float32Array;
  /** N x H x W x 3 colours of the images the model saw. */
  mapColors: Uint8Array | null;
  cameras: CameraInfo[];
  /** The scene's new point cloud. */
  points: ScenePoints;
}

export interface StoredReconstruction {
  info: ReconstructionInfo;
  frameCount: number;
  worldFromCamera: Float32Array;
  localPointMaps: Float32Array;
  mapColors: Uint8Array | null;
}

export interface FrameImage {
  frameId: string;
  index: number;
  fileName: string | null;
  mime: string;
  bytes: Buffer;
}

interface SceneRow {
  id: string;
  name: string;
  kind: SceneKind;
  created_at: string;
  updated_at: string;
  /** params_json of the newest active scale / ground edit (scene settings live on the edit stack). */
  scale_json: string | null;
  ground_json: string | null;
  thumbnail_frame_id: string | null;
  point_count: number;
  frame_count: number;
  has_cameras: number;
}

interface SourceRow {
  file_name: string;
  sha256: string;
  bytes: number;
  container: string | null;
  codec: string | null;
  coded_width: number | null;
  coded_height: number | null;
  width: number | null;
  height: number | null;
  rotation: number;
  fps: number | null;
  duration_s: number | null;
  variable_frame_rate: number;
  has_audio: number;
}

interface FrameRow {
  id: string;
  frame_index: number;
  timestamp_s: number | null;
  width: number;
  height: number;
  blur_score: number;
  selected: number;
  file_name: string | null;
}

/** The newest active edit of a kind: the scene's scale or levelling (edit-stack.ts sceneSettingsOf). */
const newestSetting = (kind: SceneSettingEdit['kind']) => `(SELECT e.params_json FROM edits e
    WHERE e.scene_id = s.id AND e.kind = '${kind}' AND e.undone = 0 ORDER BY e.seq DESC LIMIT 1)`;

const SUMMARY_SELECT = `
  SELECT s.id, s.name, s.kind, s.created_at, s.updated_at, s.thumbnail_frame_id, s.point_count,
    ${newestSetting('scale')} AS scale_json,
    ${newestSetting('ground')} AS ground_json,
    (SELECT COUNT(*) FROM frames f WHERE f.scene_id = s.id) AS frame_count,
    EXISTS (SELECT 1 FROM cameras c WHERE c.scene_id = s.id) AS has_cameras
  FROM scenes s`;

function toSummary(row: SceneRow): SceneSummary {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    frameCount: row.frame_count,
    pointCount: row.point_count,
    hasCameras: row.has_cameras === 1,
    thumbnailFrameId: row.thumbnail_frame_id,
    ...sceneSettingsOf([
      ...storedSetting('scale', row.scale_json),
      ...storedSetting('ground', row.ground_json),
    ]),
  };
}

/** A stored setting edit as an Edit; one this build cannot read counts as absent (it stays stored). */
function storedSetting(kind: SceneSettingEdit['kind'], paramsJson: string | null): Edit[] {
  if (paramsJson === null) return [];
  let params: unknown;
  try {
    params = JSON.parse(paramsJson);
  } catch {
    return [];
  }
  const parsed = editSchema.safeParse({ kind, params });
  return parsed.success ? [parsed.data] : [];
}

function toSource(row: SourceRow): SourceInfo {
  return {
    fileName: row.file_name,
    sha256: row.sha256,
    bytes: row.bytes,
    container: row.container,
    codec: row.codec,
    codedWidth: row.coded_width,
    codedHeight: row.coded_height,
    width: row.width,
    height: row.height,
    rotation: row.rotation,
    fps: row.fps,
    durationS: row.duration_s,
    variableFrameRate: row.variable_frame_rate === 1,
    hasAudio: row.has_audio === 1,
  };
}

function toFrame(row: FrameRow): FrameInfo {
  return {
    id: row.id,
    index: row.frame_index,
    timestampS: row.timestamp_s,
    width: row.width,
    height: row.height,
    blurScore: row.blur_score,
    selected: row.selected === 1,
    fileName: row.file_name,
  };
}

/** Axis-aligned bounds of the finite points, or null when there are none. */
export function boundsOf(positions: Float32Array, count: number): SceneDetail['bounds'] {
  let minX = Infinity,
    minY = Infinity,
    minZ = Infinity,
    maxX = -Infinity,
    maxY = -Infinity,
    maxZ = -Infinity;
  for (let i = 0; i < 3 * count; i += 3) {
    const x = positions[i],
      y = positions[i + 1],
      z = positions[i + 2];
    // x - x is 0 for finite x and NaN for NaN/±Infinity: one cheap test per point.
    if (x - x + (y - y) + (z - z) !== 0) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    if (z < minZ) minZ = z;
    if (z > maxZ) maxZ = z;
  }
  if (minX === Infinity) return null;
  return { min: [minX, minY, minZ], max: [maxX, maxY, maxZ] };
}

function checkPoints(points: ScenePoints): void {
  assertStorablePointCount(points.count);
  if (points.positions.length !== points.count * 3) {
    throw new Error(`point cloud has ${points.positions.length} position values for ${points.count} points`);
  }
  if (points.colors && points.colors.length !== points.count * 3) {
    throw new Error(`point cloud has ${points.colors.length} colour values for ${points.count} points`);
  }
}

type PointArrayName = 'positions' | 'colors';

export interface SceneStoreOptions {
  /** Arrays larger than this are stored in chunks of this size (tests inject a small one). */
  chunkBytes?: number;
}

export class SceneStore {
  private readonly chunkBytes: number;

  constructor(
    private readonly db: Database.Database,
    options: SceneStoreOptions = {},
  ) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  list(): SceneSummary[] {
    const rows = this.db.prepare(`${SUMMARY_SELECT} ORDER BY s.created_at DESC, s.id`).all() as SceneRow[];
    return rows.map(toSummary);
  }

  summary(sceneId: string): SceneSummary | null {
    const row = this.db.prepare(`${SUMMARY_SELECT} WHERE s.id = ?`).get(sceneId) as SceneRow | undefined;
    return row ? toSummary(row) : null;
  }

  get(sceneId: string): SceneDetail | null {
    // One read transaction so the detail is one consistent snapshot.
    return this.db.transaction((): SceneDetail | null => {
      const summary = this.summary(sceneId);
      if (!summary) return null;
      const sourceRow = this.db.prepare('SELECT * FROM sources WHERE scene_id = ?').get(sceneId) as
        SourceRow | undefined;
      const frames = (
        this.db
          .prepare(
            `SELECT id, frame_index, timestamp_s, width, height, blur_score, selected, file_name
             FROM frames WHERE scene_id = ? ORDER BY frame_index`,
          )
          .all(sceneId) as FrameRow[]
      ).map(toFrame);
      const cameras = (
        this.db
          .prepare(
            `SELECT frame_index, frame_id, world_from_camera_json, intrinsics_json
             FROM cameras WHERE scene_id = ? ORDER BY frame_index`,
          )
          .all(sceneId) as Array<{
          frame_index: number;
          frame_id: string | null;
          world_from_camera_json: string;
          intrinsics_json: string | null;
        }>
      ).map((row): CameraInfo => ({
        frameId: row.frame_id,
        frameIndex: row.frame_index,
        worldFromCamera: JSON.parse(row.world_from_camera_json) as number[],
        intrinsics: row.intrinsics_json
          ? (JSON.parse(row.intrinsics_json) as CameraInfo['intrinsics'])
          : null,
      }));
      const boundsRow = this.db
        .prepare('SELECT min_x, min_y, min_z, max_x, max_y, max_z FROM scene_points WHERE scene_id = ?')
        .get(sceneId) as
        Record<'min_x' | 'min_y' | 'min_z' | 'max_x' | 'max_y' | 'max_z', number | null> | undefined;
      const bounds: SceneDetail['bounds'] =
        boundsRow && boundsRow.min_x !== null
          ? {
              min: [boundsRow.min_x, boundsRow.min_y ?? 0, boundsRow.min_z ?? 0],
              max: [boundsRow.max_x ?? 0, boundsRow.max_y ?? 0, boundsRow.max_z ?? 0],
            }
          : null;
      return {
        ...summary,
        source: sourceRow ? toSource(sourceRow) : null,
        frames,
        cameras,
        bounds,
        reconstruction: this.reconstructionInfo(sceneId),
      };
    })();
  }

  /** Insert a whole scene (source, frames, points) in one transaction. */
  create(scene: NewScene): SceneSummary {
    if (scene.points) checkPoints(scene.points);
    const sceneId = newId('scn');
    const now = nowIso();
    const frameIds = scene.frames.map(() => newId('frm'));
    const insertScene = this.db.prepare(
      `INSERT INTO scenes (id, name, kind, created_at, updated_at, thumbnail_frame_id, point_count)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertSource = this.db.prepare(
      `INSERT INTO sources (scene_id, file_name, sha256, bytes, container, codec, coded_width, coded_height, width,
         height, rotation, fps, duration_s, variable_frame_rate, has_audio)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertFrame = this.db.prepare(
      `INSERT INTO frames (id, scene_id, frame_index, timestamp_s, width, height, blur_score, selected, file_name,
         image_mime, image, thumbnail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const thumbnailIndex = scene.frames.findIndex((f) => f.selected);
    const thumbnailFrameId = scene.frames.length ? frameIds[Math.max(0, thumbnailIndex)] : null;
    this.db
      .transaction(() => {
        insertScene.run(
          sceneId,
          scene.name,
          scene.kind,
          now,
          now,
          thumbnailFrameId,
          scene.points?.count ?? 0,
        );
        const s = scene.source;
        if (s) {
          insertSource.run(
            sceneId,
            s.fileName,
            s.sha256,
            s.bytes,
            s.container,
            s.codec,
            s.codedWidth,
            s.codedHeight,
            s.width,
            s.height,
            s.rotation,
            s.fps,
            s.durationS,
            s.variableFrameRate ? 1 : 0,
            s.hasAudio ? 1 : 0,
          );
        }
        scene.frames.forEach((f, i) => {
          insertFrame.run(
            frameIds[i],
            sceneId,
            f.index,
            f.timestampS,
            f.width,
            f.height,
            f.blurScore,
            f.selected ? 1 : 0,
            f.fileName,
            f.imageMime,
            f.image,
            f.thumbnail,
          );
        });
        if (scene.points) this.writePoints(sceneId, scene.points);
      })
      .immediate();
    const summary = this.summary(sceneId);
    if (!summary) throw new Error('scene vanished right after it was written');
    return summary;
  }

  rename(sceneId: string, name: string): SceneSummary | null {
    const info = this.db
      .prepare('UPDATE scenes SET name = ?, updated_at = ? WHERE id = ?')
      .run(name, nowIso(), sceneId);
    return info.changes ? this.summary(sceneId) : null;
  }

  /** Deletes the scene and, through foreign keys, everything that belongs to it. */
  delete(sceneId: string): boolean {
    return this.db.prepare('DELETE FROM scenes WHERE id = ?').run(sceneId).changes > 0;
  }

  /** Frames with their encoded images, in index order (selected ones only by default). */
  frameImages(sceneId: string, options: { selectedOnly?: boolean } = {}): FrameImage[] {
    const selectedOnly = options.selectedOnly ?? true;
    const rows = this.db
      .prepare(
        `SELECT id, frame_index, file_name, image_mime, image FROM frames
         WHERE scene_id = ? ${selectedOnly ? 'AND selected = 1' : ''} ORDER BY frame_index`,
      )
      .all(sceneId) as Array<{
      id: string;
      frame_index: number;
      file_name: string | null;
      image_mime: string;
      image: Buffer;
    }>;
    return rows.map((r) => ({
      frameId: r.id,
      index: r.frame_index,
      fileName: r.file_name,
      mime: r.image_mime,
      bytes: r.image,
    }));
  }

  frameImage(frameId: string): { mime: string; bytes: Buffer } | null {
    const row = this.db.prepare('SELECT image_mime, image FROM frames WHERE id = ?').get(frameId) as
      { image_mime: string; image: Buffer } | undefined;
    return row ? { mime: row.image_mime, bytes: row.image } : null;
  }

  frameThumbnail(frameId: string): Buffer | null {
    const row = this.db.prepare('SELECT thumbnail FROM frames WHERE id = ?').get(frameId) as
      { thumbnail: Buffer } | undefined;
    return row ? row.thumbnail : null;
  }

  setFrameSelection(sceneId: string, selection: Map<number, boolean>): void {
    const update = this.db.prepare('UPDATE frames SET selected = ? WHERE scene_id = ? AND frame_index = ?');
    this.db
      .transaction(() => {
        for (const [index, selected] of selection) update.run(selected ? 1 : 0, sceneId, index);
        this.db.prepare('UPDATE scenes SET updated_at = ? WHERE id = ?').run(nowIso(), sceneId);
      })
      .immediate();
  }

  /** Raw little-endian float32 xyz bytes of the scene's points (for blob serving). */
  positionsBytes(sceneId: string): Buffer | null {
    return this.db.transaction(() => this.readPointArrays(sceneId, ['positions'])?.positions ?? null)();
  }

  colorsBytes(sceneId: string): Buffer | null {
    return this.db.transaction(() => this.readPointArrays(sceneId, ['colors'])?.colors ?? null)();
  }

  points(sceneId: string): ScenePoints | null {
    // One read transaction: positions and colours from the same snapshot.
    return this.db.transaction((): ScenePoints | null => {
      const arrays = this.readPointArrays(sceneId, ['positions', 'colors']);
      if (!arrays?.positions) return null;
      return {
        count: arrays.count,
        positions: float32Of(arrays.positions),
        colors: arrays.colors ? uint8Of(arrays.colors) : null,
      };
    })();
  }

  /**
   * The named arrays of a scene's cloud, inline or joined from their chunks,
   * checked against the stored count so a count never disagrees with the data.
   */
  private readPointArrays(
    sceneId: string,
    names: PointArrayName[],
  ): { count: number; positions?: Buffer; colors?: Buffer | null } | null {
    const row = this.db
      .prepare(
        `SELECT point_count, positions_chunks, colors_chunks,
           ${names.includes('positions') ? 'positions' : 'NULL AS positions'},
           ${names.includes('colors') ? 'colors' : 'NULL AS colors'}
         FROM scene_points WHERE scene_id = ?`,
      )
      .get(sceneId) as
      | {
          point_count: number;
          positions_chunks: number;
          colors_chunks: number;
          positions: Buffer | null;
          colors: Buffer | null;
        }
      | undefined;
    if (!row) return null;
    const result: { count: number; positions?: Buffer; colors?: Buffer | null } = { count: row.point_count };
    if (names.includes('positions')) {
      const bytes =
        row.positions_chunks > 0
          ? this.readChunks(sceneId, 'positions', row.point_count * 12)
          : (row.positions ?? Buffer.alloc(0));
      if (bytes.byteLength !== row.point_count * 12)
        throw new Error(
          `scene ${sceneId} stores ${bytes.byteLength} position bytes for ${row.point_count} points`,
        );
      result.positions = bytes;
    }
    if (names.includes('colors')) {
      result.colors =
        row.colors_chunks > 0 ? this.readChunks(sceneId, 'colors', row.point_count * 3) : row.colors;
      if (result.colors && result.colors.byteLength !== row.point_count * 3)
        throw new Error(
          `scene ${sceneId} stores ${result.colors.byteLength} colour bytes for ${row.point_count} points`,
        );
    }
    return result;
  }

  /** Joins a chunked array one chunk at a time (never all chunk copies at once). */
  private readChunks(sceneId: string, name: PointArrayName, totalBytes: number): Buffer {
    const rows = this.db
      .prepare(
        'SELECT bytes FROM scene_point_chunks WHERE scene_id = ? AND array_name = ? ORDER BY chunk_index',
      )
      .iterate(sceneId, name) as IterableIterator<{ bytes: Buffer }>;
    function* chunks(): Generator<Buffer> {
      for (const row of rows) yield row.bytes;
    }
    return joinChunks(chunks(), totalBytes);
  }

  /** Replace the scene's point cloud (its own transaction unless already inside one). */
  replacePoints(sceneId: string, points: ScenePoints): void {
    checkPoints(points);
    this.db
      .transaction(() => {
        this.writePoints(sceneId, points);
        this.db
          .prepare('UPDATE scenes SET point_count = ?, updated_at = ? WHERE id = ?')
          .run(points.count, nowIso(), sceneId);
      })
      .immediate();
  }

  /**
   * Writes the cloud inside the caller's transaction. An array over one
   * chunk's size goes into scene_point_chunks (its column left empty), so
   * clouds far past SQLite's 1 GB blob limit are stored whole and atomically.
   */
  private writePoints(sceneId: string, points: ScenePoints): void {
    const bounds = boundsOf(points.positions, points.count);
    const positions = bytesOf(points.positions);
    const colors = points.colors ? bytesOf(points.colors) : null;
    const positionChunks =
      positions.byteLength > this.chunkBytes ? chunksOf(positions, this.chunkBytes) : null;
    const colorChunks =
      colors && colors.byteLength > this.chunkBytes ? chunksOf(colors, this.chunkBytes) : null;
    this.db.prepare('DELETE FROM scene_point_chunks WHERE scene_id = ?').run(sceneId);
    this.db
      .prepare(
        `INSERT OR REPLACE INTO scene_points (scene_id, point_count, positions, colors, min_x, min_y, min_z, max_x, max_y, max_z,
           positions_chunks, colors_chunks)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        sceneId,
        points.count,
        positionChunks ? Buffer.alloc(0) : positions,
        colorChunks ? null : colors,
        bounds?.min[0] ?? null,
        bounds?.min[1] ?? null,
        bounds?.min[2] ?? null,
        bounds?.max[0] ?? null,
        bounds?.max[1] ?? null,
        bounds?.max[2] ?? null,
        positionChunks?.length ?? 0,
        colorChunks?.length ?? 0,
      );
    const insertChunk = this.db.prepare(
      'INSERT INTO scene_point_chunks (scene_id, array_name, chunk_index, bytes) VALUES (?, ?, ?, ?)',
    );
    positionChunks?.forEach((chunk, index) => insertChunk.run(sceneId, 'positions', index, chunk));
    colorChunks?.forEach((chunk, index) => insertChunk.run(sceneId, 'colors', index, chunk));
  }

  /**
   * Store a reconstruction and make it the scene's current one: its cameras
   * and point cloud replace the previous ones, all in one transaction.
   */
  saveReconstruction(sceneId: string, rec: NewReconstruction): ReconstructionInfo {
    checkPoints(rec.points);
    const id = newId('rec');
    const now = nowIso();
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM reconstructions WHERE scene_id = ?').run(sceneId);
        this.db.prepare('DELETE FROM cameras WHERE scene_id = ?').run(sceneId);
        this.db
          .prepare(
            `INSERT INTO reconstructions (id, scene_id, model_id, precision, execution_provider, created_at, frame_count,
             map_width, map_height, timings_json, world_from_camera, local_point_maps, map_colors)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            sceneId,
            rec.modelId,
            rec.precision,
            rec.executionProvider,
            now,
            rec.frameCount,
            rec.mapWidth,
            rec.mapHeight,
            JSON.stringify(rec.timingsMs),
            bytesOf(rec.worldFromCamera),
            bytesOf(rec.localPointMaps),
            rec.mapColors ? bytesOf(rec.mapColors) : null,
          );
        const insertCamera = this.db.prepare(
          `INSERT INTO cameras (scene_id, frame_index, frame_id, world_from_camera_json, intrinsics_json)
         VALUES (?, ?, ?, ?, ?)`,
        );
        for (const camera of rec.cameras) {
          insertCamera.run(
            sceneId,
            camera.frameIndex,
            camera.frameId,
            JSON.stringify(camera.worldFromCamera),
            camera.intrinsics ? JSON.stringify(camera.intrinsics) : null,
          );
        }
        this.writePoints(sceneId, rec.points);
        this.db
          .prepare('UPDATE scenes SET point_count = ?, updated_at = ? WHERE id = ?')
          .run(rec.points.count, now, sceneId);
      })
      .immediate();
    const info = this.reconstructionInfo(sceneId);
    if (!info) throw new Error('reconstruction vanished right after it was written');
    return info;
  }

  reconstructionInfo(sceneId: string): ReconstructionInfo | null {
    const row = this.db
      .prepare(
        `SELECT id, model_id, precision, execution_provider, created_at, map_width, map_height, timings_json
         FROM reconstructions WHERE scene_id = ? ORDER BY created_at DESC LIMIT 1`,
      )
      .get(sceneId) as
      | {
          id: string;
          model_id: string;
          precision: string;
          execution_provider: string;
          created_at: string;
          map_width: number;
          map_height: number;
          timings_json: string;
        }
      | undefined;
    if (!row) return null;
    // The reconstruction's cameras name the frames it was made from: they are
    // written with it (saveReconstruction) and replaced only by the next one.
    const usedFrameIds = (
      this.db
        .prepare(
          'SELECT frame_id FROM cameras WHERE scene_id = ? AND frame_id IS NOT NULL ORDER BY frame_index',
        )
        .all(sceneId) as Array<{ frame_id: string }>
    ).map((camera) => camera.frame_id);
    return {
      id: row.id,
      modelId: row.model_id,
      precision: row.precision,
      executionProvider: row.execution_provider,
      createdAt: row.created_at,
      mapWidth: row.map_width,
      mapHeight: row.map_height,
      timingsMs: JSON.parse(row.timings_json) as Record<string, number>,
      usedFrameIds,
    };
  }

  reconstruction(sceneId: string): StoredReconstruction | null {
    const info = this.reconstructionInfo(sceneId);
    if (!info) return null;
    const row = this.db
      .prepare(
        'SELECT frame_count, world_from_camera, local_point_maps, map_colors FROM reconstructions WHERE id = ?',
      )
      .get(info.id) as
      | {
          frame_count: number;
          world_from_camera: Buffer;
          local_point_maps: Buffer;
          map_colors: Buffer | null;
        }
      | undefined;
    if (!row) return null;
    return {
      info,
      frameCount: row.frame_count,
      worldFromCamera: float32Of(row.world_from_camera),
      localPointMaps: float32Of(row.local_point_maps),
      mapColors: row.map_colors ? uint8Of(row.map_colors) : null,
    };
  }
}
