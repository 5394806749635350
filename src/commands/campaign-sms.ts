import { type CampaignMember, campaignMemberStream, memberMailDecider, normalizeMobile, smsSuppressionOf } from '../domain/campaign/members.ts';
import { compileSmsParams } from '../domain/campaign/render.ts';
import type { Logger } from '../infra/logger.ts';
import { SmsRejectedError, type SmsSender } from '../infra/sms/port.ts';
import { campaignMembers, campaignState, completeSend, consentOf, type MemberOutcome, outcomeOf, pacer, type SendSettings, sendToMembers, smsTemplateAt, stepMeta } from './campaign-mail.ts';
import type { Actor, CommandDeps } from './context.ts';
import { ERASED } from '../domain/shared/personal-data.ts';
import { contactOfMember } from '../domain/campaign/personal.ts';
import { execute } from './pipeline.ts';

/**
 * Sends an SMS campaign's template to every frozen member who has not had it, through the SMS port: per member,
 * `CampaignSmsSending` (with our request id, which the gateway uses to drop a repeat) before the request and
 * `CampaignSmsAccepted` (the gateway's message id) or `CampaignSmsFailed` after it; a member with an outcome is
 * passed over, so a resumed run texts nobody twice. Numbers whose SMS consent was withdrawn are skipped. A gateway
 * that cannot be reached stops the run, to be resumed.
 */
export async function runSmsSend(deps: CommandDeps & { sms: SmsSender; logger: Logger }, campaignId: string, settings: SendSettings, actor: Actor): Promise<Record<MemberOutcome, number> | undefined> {
  const campaign = await campaignState(deps, campaignId);
  const send = campaign.send;
  if (!send || send.status === 'completed') return undefined;
  const { fields: template } = await smsTemplateAt(deps, send.templateId, send.templateRevision);
  const fill = compileSmsParams(template.params);
  const members = (await campaignMembers(deps, campaignId, send.audienceId)).filter((member) => member.mobile);
  const pace = pacer(settings.ratePerSecond);
  const attempts = settings.attempts ?? 3;
  const startedMs = Date.parse(send.startedAt);

  const sendOne = async (member: CampaignMember): Promise<MemberOutcome> => {
    const stream = campaignMemberStream(campaignId, member.memberId);
    const step = (name: string) => stepMeta(`campaign-send:${send.sendId}:${member.memberId}:${name}`, startedMs);
    const at = () => deps.clock.now().toISOString();
    const mobile = normalizeMobile(member.mobile!);
    const requestId = `sms-${send.sendId}-${member.memberId}`;
    // A member whose personal data was erased since the list was frozen is not messaged.
    const optedOut = member.mobile === ERASED ? 'erased' : smsSuppressionOf(await consentOf(deps, mobile));
    const { state } = await execute(
      deps,
      memberMailDecider,
      stream,
      optedOut
        ? { type: 'SkipMail', campaignId, memberId: member.memberId, sendId: send.sendId, reason: optedOut, at: at() }
        : { type: 'StartSms', campaignId, memberId: member.memberId, sendId: send.sendId, requestId, mobile, templateId: send.templateId, at: at(), ...contactOfMember(member) },
      actor,
      step(optedOut ? 'skip' : 'start'),
    );
    const done = outcomeOf(state);
    if (done) return done;
    if (optedOut) {
      await execute(deps, memberMailDecider, stream, { type: 'RecordFailure', campaignId, memberId: member.memberId, sendId: send.sendId, reason: 'Opted out before the message could be handed over again', at: at(), sms: true }, actor, step('result'));
      return 'failed';
    }
    const params = fill({ ...member.merge, campaign: { name: campaign.fields.name } });
    let outcome: { accepted: true; messageId: string; response: string } | { accepted: false; reason: string } | undefined;
    for (let attempt = 1; !outcome; attempt++) {
      await pace();
      try {
        const sent = await deps.sms.send({ to: mobile, templateCode: template.templateCode, params, ...(template.signName ? { signName: template.signName } : {}), requestId });
        outcome = { accepted: true, ...sent };
      } catch (error) {
        if (error instanceof SmsRejectedError) outcome = { accepted: false, reason: `${error.code}: ${error.message}` };
        else if (attempt >= attempts) throw error;
        else await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
      }
    }
    await execute(
      deps,
      memberMailDecider,
      stream,
      outcome.accepted
        ? { type: 'RecordSmsAccepted', campaignId, memberId: member.memberId, sendId: send.sendId, messageId: outcome.messageId, response: outcome.response, at: at() }
        : { type: 'RecordFailure', campaignId, memberId: member.memberId, sendId: send.sendId, reason: outcome.reason, at: at(), sms: true },
      actor,
      step('result'),
    );
    return outcome.accepted ? 'delivered' : 'failed';
  };

  const counted = await sendToMembers(members, settings, sendOne);
  return counted && completeSend(deps, campaignId, send, counted, actor);
}
