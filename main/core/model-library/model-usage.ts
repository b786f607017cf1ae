// Which queued or running jobs will use which model. A reconstruct or ask job
// is pinned to its model when it is queued (the one named, else the active
// one), so removing that model meanwhile can be refused instead of pulling the
// folder out from under the engine.

export class ModelUsage {
  private readonly modelByJob = new Map<string, string>();

  use(jobId: string, modelId: string): void {
    this.modelByJob.set(jobId, modelId);
  }

  /** The job has finished: its model is free again. */
  release(jobId: string): void {
    this.modelByJob.delete(jobId);
  }

  jobsUsing(modelId: string): string[] {
    return [...this.modelByJob].filter(([, model]) => model === modelId).map(([job]) => job);
  }
}
