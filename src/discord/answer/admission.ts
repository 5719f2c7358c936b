// Checks made under the person's lock before the model is asked, in order; the first that refuses
// answers with its notice instead. A new check is a new entry here.
import type { IncomingMessage } from '../../chat/conversation.js';
import type { Guards } from '../../chat/guards.js';
import { nothingToAnswer } from '../attachments/step.js';
import type { Replies } from '../replies.js';

export interface Admission {
  message: IncomingMessage;
  /** Handed out too often: it may be what kills replicas. */
  givingUp: boolean;
  /** Lines shown before the answer (late answer, attachment notes). */
  preface: string;
  replies: () => Promise<Replies>;
  guards?: Pick<Guards, 'tokenCapReached'> | undefined;
}

/** A refusal: the outcome logged and the notice the person gets. */
export type Refusal = { outcome: string; text: string } | null;
type AdmissionCheck = (a: Admission) => Promise<Refusal>;

const notGivenUp: AdmissionCheck = async (a) => (a.givingUp ? { outcome: 'gave_up', text: (await a.replies()).unexpected } : null);

const underTokenCap: AdmissionCheck = async (a) => {
  const freesAt = await a.guards?.tokenCapReached(a.message.userId);
  return freesAt ? { outcome: 'token_cap', text: (await a.replies()).tokenCap(freesAt) } : null;
};

// Only files the model cannot take and no words: the notes about them are the whole reply.
const somethingToAnswer: AdmissionCheck = async (a) =>
  nothingToAnswer(a.message) ? { outcome: 'attachments_only', text: a.preface.trim() || (await a.replies()).emptyMessage } : null;

const CHECKS: AdmissionCheck[] = [notGivenUp, underTokenCap, somethingToAnswer];

export async function admit(a: Admission): Promise<Refusal> {
  for (const check of CHECKS) {
    const refusal = await check(a);
    if (refusal) return refusal;
  }
  return null;
}

