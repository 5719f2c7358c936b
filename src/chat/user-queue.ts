// Runs one user's work strictly one at a time, in arrival order, while different users run in parallel.
// The session is read-modify-write, so two overlapping messages from one person would lose a turn.

export class PerUserQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(userId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(userId, tail);
    void tail.then(() => {
      if (this.tails.get(userId) === tail) this.tails.delete(userId);
    });
    return result;
  }

  /** Resolves once every queued task has settled. */
  async drain(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }

  get activeUsers(): number {
    return this.tails.size;
  }
}
