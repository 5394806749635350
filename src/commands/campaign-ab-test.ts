import { abGroups, type AbMemberOutcome, abVariantResult, abWinner } from '../domain/campaign/ab-test.ts';
import { campaignCategory, CampaignSendStarted, campaignDecider } from '../domain/campaign/index.ts';
import { CampaignMailClicked, CampaignMailDelivered, CampaignMailOpened, campaignMemberStream, type CampaignMember } from '../domain/campaign/members.ts';
import { recordStream, specOf } from '../domain/customization/resources.ts';
import type { ReadStore } from '../infra/readstore/port.ts';
import { escapeRegex } from '../infra/readstore/regex.ts';
import { campaignMembers } from './campaign-mail.ts';
import { campaignEngagementSettings } from './campaigns.ts';
import type { CommandDeps, RequestMeta } from './context.ts';
import { systemActor } from './employees.ts';
import { execute, load } from './pipeline.ts';
import type { TimerSpec } from './timers.ts';

/** What a test member's stream says about their mail, and whether a lead was created for their address after delivery. */
async function outcomeOf(deps: CommandDeps, campaignId: string, member: CampaignMember, leadsSince: ReadonlyMap<string, string[]>): Promise<AbMemberOutcome> {
  const outcome: AbMemberOutcome = { opens: [], clicks: [], lead: false };
  for (const event of await deps.eventStore.readStream(campaignMemberStream(campaignId, member.memberId))) {
    if (event.type === 'CampaignMailDelivered') outcome.deliveredAt = CampaignMailDelivered.parse(event.data).at;
    else if (event.type === 'CampaignMailOpened') outcome.opens.push(CampaignMailOpened.parse(event.data));
    else if (event.type === 'CampaignMailClicked') outcome.clicks.push(CampaignMailClicked.parse(event.data));
  }
  const deliveredAt = outcome.deliveredAt;
  outcome.lead = deliveredAt !== undefined && (leadsSince.get(member.email.toLowerCase()) ?? []).some((createdAt) => createdAt >= deliveredAt);
  return outcome;
}

/** When leads were created for the addresses, by address (lower case; a lead's address is matched whatever its case). */
async function leadsFor(readStore: ReadStore, emails: readonly string[]): Promise<Map<string, string[]>> {
  const wanted = [...new Set(emails.map((email) => email.toLowerCase()))];
  const out = new Map<string, string[]>();
  for (let i = 0; i < wanted.length; i += 200) {
    const part = wanted.slice(i, i + 200).map((email) => ({ email: { $regex: `^${escapeRegex(email)}$`, $options: 'i' } }));
    for (const lead of await readStore.collection('leads').find({ $or: part }, { projection: { email: 1, createdAt: 1 } })) {
      const email = String(lead.email).toLowerCase();
      out.set(email, [...(out.get(email) ?? []), String(lead.createdAt)]);
    }
  }
  return out;
}

/**
 * Decides a send's A/B test: each variant's rate of the metric over its delivered members (opens and clicks from
 * the members' raw events, by the engagement rule in force, so scanners do not pick the winner; leads from the leads
 * created for their addresses after delivery), the better one wins (a tie keeps A), and the decision records the
 * numbers and the template the rest get. Answers whether it decided (false: no test, or decided already).
 */
export async function decideAbTest(deps: CommandDeps, readStore: ReadStore, campaignId: string, meta: RequestMeta): Promise<boolean> {
  const stream = recordStream(specOf('campaigns'), campaignId);
  const { state } = await load(deps, campaignDecider, stream);
  const send = state.status === 'none' ? undefined : state.send;
  const test = send?.abTest;
  if (!send || !test || test.decided) return false;
  const members = await campaignMembers(deps, campaignId, send.audienceId);
  const groups = abGroups(members.map((member) => member.memberId), send.sendId, test.share);
  const inTest = members.filter((member) => groups.get(member.memberId) !== 'rest');
  const rule = (await campaignEngagementSettings.read(deps)).value;
  const leads = test.metric === 'leads' ? await leadsFor(readStore, inTest.map((member) => member.email)) : new Map<string, string[]>();
  const outcomes: Record<'A' | 'B', AbMemberOutcome[]> = { A: [], B: [] };
  for (const member of inTest) outcomes[groups.get(member.memberId) as 'A' | 'B'].push(await outcomeOf(deps, campaignId, member, leads));
  const results = { A: abVariantResult(outcomes.A, test.metric, rule), B: abVariantResult(outcomes.B, test.metric, rule) };
  const winner = abWinner(results);
  const template = winner === 'A' ? { templateId: send.templateId, templateRevision: send.templateRevision } : { templateId: test.variantTemplateId, templateRevision: test.variantTemplateRevision };
  await execute(deps, campaignDecider, stream, { type: 'DecideAbTest', campaignId, sendId: send.sendId, results, winner, ...template, at: deps.clock.now().toISOString() }, systemActor, meta);
  return true;
}

/**
 * The A/B tests' timer: a send started with a test is due at its `decideAt`; firing decides it and hands the rest
 * of the audience to the sender. The decision (once per send) cancels it.
 */
export const abTestTimer: TimerSpec = {
  name: 'campaign-ab-test',
  categories: [campaignCategory],
  plan(event) {
    if (event.type === 'CampaignSendStarted') {
      const { campaignId, abTest } = CampaignSendStarted.parse(event.data);
      return abTest ? { schedule: [{ key: campaignId, dueAt: abTest.decideAt }] } : undefined;
    }
    if (event.type === 'CampaignAbTestDecided') return { cancel: [String((event.data as { campaignId: string }).campaignId)] };
    return undefined;
  },
  async fire(deps, item, meta, ports) {
    await decideAbTest(deps, ports.readStore, item.key, meta);
    ports.sendCampaign?.(item.key);
  },
};
