// Sessions over the same weights: the causal and non-causal LLM graphs and the
// chat's one-step decode graph all read the LLM layers from the one mapped
// weights file. On the CPU each open session maps those pages on its own, and
// the process's RSS counts them once per mapping (onnx-runtime-notes §7; PSS
// does not): measured on the real architecture, a chat question with the three
// open peaked at 26.5 GiB of RSS in fp32 for 16.9 GiB of weights on disk. So on
// the CPU only one of them is open at a time: switching closes the other
// (reopening maps the file again, no copy: ~0.3 s) and runs are serialised so a
// session is never closed under a run. GPU sessions hold device copies that a
// reopen would upload again; they all stay open.
import type { ort } from './ort';
import type { LoadedSession } from './session';

type Opener = () => Promise<LoadedSession>;

export class SharedWeightSessions {
  private readonly openers = new Map<string, Opener>();
  private readonly open = new Map<string, ort.InferenceSession>();
  private turn: Promise<unknown> = Promise.resolve();
  private released = false;

  /** `exclusive`: at most one session open (the CPU); else every session stays open. */
  constructor(readonly exclusive: boolean) {}

  /**
   * Opens the graph once (its errors surface at load; `opened` when the caller
   * already has that first session) and keeps it open until another is used.
   */
  async add(name: string, opener: Opener, opened?: LoadedSession): Promise<LoadedSession> {
    this.openers.set(name, opener);
    return this.serialised(async () => {
      const loaded = opened ?? (await opener());
      await this.closeOthers(name);
      this.open.set(name, loaded.session);
      return loaded;
    });
  }

  /** Runs `fn` on the named session, opening it (and on the CPU closing the others) first. */
  run<T>(name: string, fn: (session: ort.InferenceSession) => Promise<T>): Promise<T> {
    return this.serialised(async () => {
      if (this.released) throw new Error(`session ${name} used after release`);
      let session = this.open.get(name);
      if (!session) {
        const opener = this.openers.get(name);
        if (!opener) throw new Error(`no graph named ${name} among the shared-weight sessions`);
        await this.closeOthers(name);
        session = (await opener()).session;
        this.open.set(name, session);
      }
      return fn(session);
    });
  }

  /** Names of the sessions open now (tests and diagnostics). */
  openNames(): string[] {
    return [...this.open.keys()];
  }

  async release(): Promise<void> {
    await this.serialised(async () => {
      this.released = true;
      for (const session of this.open.values()) await session.release();
      this.open.clear();
    });
  }

  private async closeOthers(name: string): Promise<void> {
    if (!this.exclusive) return;
    for (const [other, session] of [...this.open]) {
      if (other === name) continue;
      this.open.delete(other);
      await session.release();
    }
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn);
    this.turn = result.catch(() => undefined);
    return result;
  }
}
