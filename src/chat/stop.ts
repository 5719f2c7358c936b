// Stopping an answer while it is being written (the person's Stop button, src/discord/stop-button.ts).
// The transport aborts the model request with a `StopRequested` reason: the model client then returns
// the words written so far, marked stopped, instead of failing, and the core records and keeps them
// like any answer. Any other abort (Discord refused the first words, the replica is stopping) is
// still a failure.

export class StopRequested extends Error {
  constructor() {
    super('The person stopped the answer');
    this.name = 'StopRequested';
  }
}

/** Whether `signal` was aborted by the person's Stop. */
export function stoppedBy(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason instanceof StopRequested;
}
