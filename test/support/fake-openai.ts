// A fake OpenAI chat completions server on 127.0.0.1 for the real openai SDK (OPENAI_BASE_URL):
// `POST /v1/chat/completions`, JSON or `stream: true` server-sent events (with a usage chunk when
// `stream_options.include_usage` is set). Replies are deterministic; each test can set latency,
// failures (429/5xx with retry-after), a hang, or the reply text. Every request is recorded.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
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
    this.setReply((request) => `You said: ${request.messages.at(-1)?.content ?? ''}`);
  }

  /** Requests whose last message is from the given text, to find one user's calls among many. */
  requestsContaining(text: string): ChatRequest[] {
    return this.requests.filter((r) => r.messages.some((m) => m.content.includes(text)));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      return json(res, 404, { error: { message: `Unknown route ${req.method} ${req.url}`, type: 'invalid_request_error', code: null } });
    }
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      return json(res, 401, { error: { message: 'Missing API key', type: 'invalid_request_error', code: 'invalid_api_key' } });
    }
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
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
    const promptTokens = request.messages.reduce((n, m) => n + Math.ceil(m.content.length / 4) + 4, 3);
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
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      if (this.chunkDelayMs) await sleep(this.chunkDelayMs);
      event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
    event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (request.stream_options?.include_usage) event({ ...base, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
