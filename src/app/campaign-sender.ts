import { campaignState, type MailDeps, runSend, type SendSettings } from '../commands/campaign-mail.ts';
import { runSmsSend } from '../commands/campaign-sms.ts';
import type { SmsSender } from '../infra/sms/port.ts';
import { systemActor } from '../commands/employees.ts';
import type { Logger } from '../infra/logger.ts';
import type { ReadStore } from '../infra/readstore/port.ts';

/**
 * Runs campaign sends in the background, one run per campaign at a time in this process: started by the send
 * request, resumed at start for every campaign the read model shows still sending (a crash, a restart, a mail
 * server that was down), and stopped between mails on shutdown. What a run has done is in the members' streams,
 * so a resumed run carries on where the last one stopped.
 */
export class CampaignSender {
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly deps: MailDeps & { sms: SmsSender },
    private readonly readStore: ReadStore,
    private readonly settings: Omit<SendSettings, 'stopping'>,
    private readonly logger: Logger,
  ) {}

  /** Starts (or joins) the send of a campaign; answers when the run ends. */
  send(campaignId: string): Promise<void> {
    const current = this.running.get(campaignId);
    if (current) return current;
    if (this.stopping) return Promise.resolve();
    const deps = { ...this.deps, logger: this.logger };
    const settings = { ...this.settings, stopping: () => this.stopping };
    // An SMS campaign's send goes through the SMS port, any other's through the mail port.
    const run = campaignState(deps, campaignId)
      .then((campaign) => (campaign.fields.type === 'sms' ? runSmsSend(deps, campaignId, settings, systemActor) : runSend(deps, campaignId, settings, systemActor)))
      .then(() => undefined)
      .catch((error: unknown) => this.logger.error('a campaign send stopped; it resumes on the next start or send request', { campaignId, error: (error as Error).message }))
      .finally(() => this.running.delete(campaignId));
    this.running.set(campaignId, run);
    return run;
  }

  /** Whether this process is sending the campaign now. */
  isSending(campaignId: string): boolean {
    return this.running.has(campaignId);
  }

  /** Resumes every send the read model shows unfinished. */
  async resume(): Promise<void> {
    const sending = await this.readStore.collection('campaigns').find({ 'send.status': 'sending' }, { projection: { _id: 1 } });
    for (const { _id } of sending) {
      if (this.running.has(_id)) continue;
      this.logger.info('resuming an interrupted campaign send', { campaignId: _id });
      void this.send(_id);
    }
  }

  /** Stops the runs between mails and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running.values());
  }
}
