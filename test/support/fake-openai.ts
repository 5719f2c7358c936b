// A fake OpenAI chat completions server on 127.0.0.1 for the real openai SDK (OPENAI_BASE_URL):
// `POST /v1/chat/completions`, JSON or `stream: true` server-sent events (with a usage chunk when
// `stream_options.include_usage` is set). Replies are deterministic; each test can set latency,
// failures (429/5xx with retry-after), a hang, or the reply text. Every request is recorded, a
// message sent as content parts (text and images) with its words and its images apart.
// `POST /v1/moderations` flags texts holding a marker; streamed requests the client closed are recorded.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A message's content: text, or (a user message with images) content parts, text and `image_url`
 * with a URL or a data: URL and a `detail`, as OpenAI's vision guide shows them
 * (https://platform.openai.com/docs/guides/images-vision?api-mode=chat).
 */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: 'low' | 'high' | 'auto' } };

/** An image part as recorded: its URL (a data: URL here) and detail. */
export interface ImagePart {
  url: string;
  detail?: string;
}

/** The image parts of a request, in order, with the role of the message that carried each. */
export function imagesIn(request: ChatRequest): (ImagePart & { role: string })[] {
  return request.messages.flatMap((m) => (m.images ?? []).map((image) => ({ role: m.role, ...image })));
}

/**
 * Each message is recorded with its words as `content` (the text parts joined, for a message sent as
 * parts), and, if it was sent as parts, the parts as sent (`parts`) and its images (`images`).
 */
export interface RecordedMessage {
  role: string;
  content: string;
  parts?: ContentPart[];
  images?: ImagePart[];
}

function recorded(message: { role: string; content: string | ContentPart[] | null }): RecordedMessage {
  if (typeof message.content === 'string' || message.content === null) return { role: message.role, content: message.content ?? '' };
  const parts = message.content;
  const images = parts.flatMap((part) => (part.type === 'image_url' ? [{ url: part.image_url.url, ...(part.image_url.detail ? { detail: part.image_url.detail } : {}) }] : []));
  return { role: message.role, content: parts.map((part) => (part.type === 'text' ? part.text : '')).filter(Boolean).join('\n'), parts, images };
}

export interface ChatRequest {
  model: string;
  messages: RecordedMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  [key: string]: unknown;
}

type Reply = string | ((request: ChatRequest) => string);

export class FakeOpenAI {
  readonly requests: ChatRequest[] = [];
  /** When each request arrived (ms since the epoch), in the same order as `requests`. */
  readonly requestTimes: number[] = [];
  /** Milliseconds before the answer starts (and, streaming, before the first token). */
  latencyMs = 0;
  /** Milliseconds between streamed chunks. */
  chunkDelayMs = 0;
  /** Streamed requests whose connection the client closed before the answer ended, with the chunks sent until then. */
  readonly closedByClient: { request: ChatRequest; chunksSent: number }[] = [];
  /** Moderation: a text holding one of these markers is flagged in the category named. */
  readonly moderationMarkers = new Map<string, string>([['[flag-me]', 'harassment']]);
  /** Every text the moderation endpoint was asked about, in order. */
  readonly moderationInputs: string[] = [];
  /** While true, the moderation endpoint answers 500. */
  moderationDown = false;
  private reply: Reply = (request) => `You said: ${request.messages.at(-1)?.content ?? ''}`;
  private failures: { status: number; retryAfter?: number; remaining: number }[] = [];
  private hangs = 0;
  private drops = 0;
  private readonly server: Server;
  private readonly open = new Set<ServerResponse>();
  port = 0;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Sets the reply (a fixed text or a function of the request) for every following request. */
  setReply(reply: Reply): void {
    this.reply = reply;
  }

  /** The next `times` requests fail with `status` (and a `retry-after` header in seconds, if given). */
  failNext(times: number, status: number, retryAfter?: number): void {
    this.failures.push({ status, remaining: times, ...(retryAfter === undefined ? {} : { retryAfter }) });
  }

  /** The next `times` requests never get an answer (until the server stops). */
  hangNext(times = 1): void {
    this.hangs += times;
  }

  /** The next `times` requests have their connection destroyed without an answer. */
  dropNext(times = 1): void {
    this.drops += times;
  }

  reset(): void {
    this.requests.length = 0;
    this.requestTimes.length = 0;
    this.failures = [];
    this.hangs = 0;
    this.drops = 0;
    this.latencyMs = 0;
    this.chunkDelayMs = 0;
    this.closedByClient.length = 0;
    this.moderationInputs.length = 0;
    this.moderationDown = false;
    this.setReply((request) => `You said: ${request.messages.at(-1)?.content ?? ''}`);
  }

  /** Requests whose last message is from the given text, to find one user's calls among many. */
  requestsContaining(text: string): ChatRequest[] {
    return this.requests.filter((r) => r.messages.some((m) => m.content.includes(text)));
  }

  /** Answers a moderation request (see MODERATION_CATEGORIES below for the shape). */
  private moderate(body: { model?: string; input: unknown }, res: ServerResponse): void {
    // A string, an array of strings, or (multi-modal) an array of `{ type: 'text', text }` and image parts.
    const textOf = (i: unknown) => (typeof i === 'string' ? i : ((i as { text?: string } | null)?.text ?? ''));
    const inputs = (Array.isArray(body.input) ? body.input : [body.input]).map(textOf);
    this.moderationInputs.push(...inputs);
    if (this.moderationDown) return json(res, 500, { error: { message: 'Injected 500', type: 'server_error', code: 'server_error' } });
    json(res, 200, { id: `modr-${Date.now().toString(36)}`, model: body.model ?? 'omni-moderation-latest', results: inputs.map((text) => moderationResult(text, this.moderationMarkers)) });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const moderation = req.url?.endsWith('/moderations') ?? false;
    if (req.method !== 'POST' || !(req.url?.endsWith('/chat/completions') || moderation)) {
      return json(res, 404, { error: { message: `Unknown route ${req.method} ${req.url}`, type: 'invalid_request_error', code: null } });
    }
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      return json(res, 401, { error: { message: 'Missing API key', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    if (moderation) return this.moderate(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string; input: unknown }, res);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { messages: { role: string; content: string | ContentPart[] | null }[] };
    const request = { ...body, messages: body.messages.map(recorded) } as ChatRequest;
    this.requests.push(request);
    this.requestTimes.push(Date.now());
    if (this.drops > 0) {
      this.drops -= 1;
      req.socket.destroy();
      return;
    }

    const failure = this.failures.find((f) => f.remaining > 0);
    if (failure) {
      failure.remaining -= 1;
      const headers: Record<string, string> = failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) };
      const type = failure.status === 429 ? 'rate_limit_exceeded' : 'server_error';
      return json(res, failure.status, { error: { message: `Injected ${failure.status}`, type, code: type } }, headers);
    }
    if (this.hangs > 0) {
      this.hangs -= 1;
      this.open.add(res);
      return; // never answered
    }

    if (this.latencyMs) await sleep(this.latencyMs);
    const text = typeof this.reply === 'function' ? this.reply(request) : this.reply;
    // Text by a rough rule; each image as OpenAI bills a low-detail one (85), for usage that adds up.
    const promptTokens = request.messages.reduce((n, m) => n + Math.ceil(m.content.length / 4) + 4, 3) + imagesIn(request).length * 85;
    const completionTokens = Math.ceil(text.length / 4);
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const id = `chatcmpl-${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);

    if (!request.stream) {
      // A whole answer takes as long to write as a streamed one: OpenAI answers when it is done.
      if (this.chunkDelayMs) await sleep(this.chunkDelayMs * (text.match(/\S+\s*|\s+/g)?.length ?? 0));
      return json(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const event = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const base = { id, object: 'chat.completion.chunk', created, model: request.model };
    event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    // The client may close the connection mid-answer (the openai SDK does when its request is
    // aborted): OpenAI then stops writing; so does the fake, and it remembers.
    let chunksSent = 0;
    let closed = false;
    res.once('close', () => {
      if (res.writableEnded) return;
      closed = true;
      this.closedByClient.push({ request, chunksSent });
    });
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      if (this.chunkDelayMs) await sleep(this.chunkDelayMs);
      if (closed) return;
      event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
      chunksSent += 1;
    }
    event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (request.stream_options?.include_usage) event({ ...base, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }
}

/**
 * `POST /v1/moderations` as OpenAI's API reference describes it
 * (https://platform.openai.com/docs/api-reference/moderations/create): `input` is a string or an
 * array of strings; the answer is `{ id, model, results: [{ flagged, categories, category_scores,
 * category_applied_input_types }] }`, one result per input, each category a boolean with its score.
 */
const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
];

function moderationResult(text: string, markers: ReadonlyMap<string, string>) {
  const hits = new Set([...markers].filter(([marker]) => text.includes(marker)).map(([, category]) => category));
  const by = <T>(value: (category: string) => T) => Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, value(c)]));
  return {
    flagged: hits.size > 0,
    categories: by((c) => hits.has(c)),
    category_scores: by((c) => (hits.has(c) ? 0.98 : 0.0001)),
    category_applied_input_types: by((c) => (hits.has(c) ? ['text'] : [])),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
