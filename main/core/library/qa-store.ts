// Q&A history per scene, with the model that answered and when.

import type Database from 'better-sqlite3';
import type { GeometricEvidence, Marker, QaEntry } from '../../common/domain';

interface QaRow {
  id: string;
  scene_id: string;
  question: string;
  answer: string;
  markers_json: string;
  evidence_json: string;
  model_id: string;
  precision: string;
  execution_provider: string;
  timings_json: string;
  created_at: string;
}

export class QaStore {
  constructor(private readonly db: Database.Database) {}

  add(entry: QaEntry): void {
    this.db
      .prepare(
        `INSERT INTO qa_entries (id, scene_id, question, answer, markers_json, evidence_json, model_id, precision,
           execution_provider, timings_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        entry.id,
        entry.sceneId,
        entry.question,
        entry.answer,
        JSON.stringify(entry.markers),
        JSON.stringify(entry.evidence),
        entry.modelId,
        entry.precision,
        entry.executionProvider,
        JSON.stringify(entry.timingsMs),
        entry.createdAt,
      );
  }

  /** Oldest first, as a conversation reads. */
  history(sceneId: string): QaEntry[] {
    const rows = this.db
      .prepare('SELECT * FROM qa_entries WHERE scene_id = ? ORDER BY created_at, rowid')
      .all(sceneId) as QaRow[];
    return rows.map((row) => ({
      id: row.id,
      sceneId: row.scene_id,
      question: row.question,
      answer: row.answer,
      markers: JSON.parse(row.markers_json) as Marker[],
      evidence: JSON.parse(row.evidence_json) as GeometricEvidence[],
      modelId: row.model_id,
      precision: row.precision,
      executionProvider: row.execution_provider,
      timingsMs: JSON.parse(row.timings_json) as Record<string, number>,
      createdAt: row.created_at,
    }));
  }
}
