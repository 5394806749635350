import { createServer, type Server, type Socket, connect } from 'node:net';

/** A message as Mailpit's search lists it. */
export interface MailpitSummary {
  ID: string;
  MessageID: string;
  Subject: string;
  To: { Address: string }[];
}

/** Reads what a Mailpit received, through its HTTP API. */
export class Mailpit {
  constructor(private readonly api: string) {}

  /** Every message matching a Mailpit search (e.g. `subject:"…"`), all pages. */
  async search(query: string): Promise<MailpitSummary[]> {
    const all: MailpitSummary[] = [];
    for (let start = 0; ; start += 500) {
      const page = (await (await fetch(`${this.api}/api/v1/search?query=${encodeURIComponent(query)}&start=${start}&limit=500`)).json()) as { messages: MailpitSummary[]; messages_count: number };
      all.push(...page.messages);
      if (page.messages.length === 0 || all.length >= page.messages_count) return all;
    }
  }

  /** Waits until a search finds `count` messages (Mailpit stores asynchronously), answering what it found last. */
  async waitFor(query: string, count: number, timeoutMs = 30_000): Promise<MailpitSummary[]> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.search(query);
      if (found.length >= count || Date.now() > until) return found;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async message(id: string): Promise<{ HTML: string; Text: string; Subject: string }> {
    return (await fetch(`${this.api}/api/v1/message/${id}`)).json() as Promise<{ HTML: string; Text: string; Subject: string }>;
  }

  async headers(id: string): Promise<Record<string, string[]>> {
    return (await fetch(`${this.api}/api/v1/message/${id}/headers`)).json() as Promise<Record<string, string[]>>;
  }
}

/**
 * A TCP proxy in front of an SMTP server that lets `passMessages` messages through and then holds everything the
 * client sends: the next messages' data never reaches the server (their transactions never complete), while the
 * server's answers to what passed still reach the client. A crash test kills the client while it waits.
 */
export class StallingSmtpProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Messages whose end of data (CRLF.CRLF) was passed to the server. */
  passed = 0;
  stalledAt: number | undefined;

  constructor(
    private readonly target: { host: string; port: number },
    private readonly passMessages: number,
  ) {
    this.server = createServer((client) => this.pipe(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    upstream.on('data', (chunk) => client.write(chunk));
    let tail = '';
    client.on('data', (chunk: Buffer) => {
      if (this.stalledAt !== undefined) return;
      // Find each end of data in this chunk (it may straddle chunks: keep the last 4 bytes seen).
      const text = tail + chunk.toString('latin1');
      let cut = -1;
      for (let at = text.indexOf('\r\n.\r\n'); at !== -1; at = text.indexOf('\r\n.\r\n', at + 1)) {
        if (at + 5 <= tail.length) continue;
        this.passed += 1;
        if (this.passed === this.passMessages) {
          cut = at + 5 - tail.length;
          this.stalledAt = Date.now();
          break;
        }
      }
      tail = text.slice(-4);
      upstream.write(cut === -1 ? chunk : chunk.subarray(0, cut));
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }

  /** Drops every connection (the server discards transactions that did not complete) and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
