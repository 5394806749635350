import { z } from 'zod';

/** Opportunity stages are data: an administrator edits the list; every stage change is kept with its time. */
export const Stage = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'Expected lower-case letters, digits and _'),
    name: z.string().trim().min(1).max(50),
    probability: z.number().int().min(0).max(100),
    isClosed: z.boolean(),
    isWon: z.boolean(),
    order: z.number().int().min(0).max(1000),
  })
  .strict();
export type Stage = z.infer<typeof Stage>;

export const StageList = z
  .array(Stage)
  .min(3)
  .max(30)
  .superRefine((stages, ctx) => {
    const keys = new Set<string>();
    stages.forEach((stage, i) => {
      if (keys.has(stage.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `Stage ${stage.key} appears twice` });
      keys.add(stage.key);
      if (stage.isWon && !stage.isClosed) ctx.addIssue({ code: 'custom', path: [i, 'isClosed'], message: 'A won stage is closed' });
    });
    if (stages.filter((s) => s.isWon).length !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'Exactly one stage is the won stage' });
    if (stages.filter((s) => s.isClosed && !s.isWon).length !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'Exactly one stage is the lost stage' });
    if (!stages.some((s) => !s.isClosed)) ctx.addIssue({ code: 'custom', path: [], message: 'At least one stage is open' });
  });

export const defaultStages: Stage[] = [
  { key: 'initial_contact', name: '初步接洽', probability: 10, isClosed: false, isWon: false, order: 10 },
  { key: 'needs_confirmed', name: '需求确定', probability: 30, isClosed: false, isWon: false, order: 20 },
  { key: 'proposal', name: '方案报价', probability: 60, isClosed: false, isWon: false, order: 30 },
  { key: 'negotiation', name: '谈判审核', probability: 80, isClosed: false, isWon: false, order: 40 },
  { key: 'won', name: '赢单', probability: 100, isClosed: true, isWon: true, order: 50 },
  { key: 'lost', name: '输单', probability: 0, isClosed: true, isWon: false, order: 60 },
];

export const sortedStages = (stages: Stage[]) => [...stages].sort((a, b) => a.order - b.order);
export const wonStage = (stages: Stage[]) => stages.find((s) => s.isWon)!;
export const lostStage = (stages: Stage[]) => stages.find((s) => s.isClosed && !s.isWon)!;
export const firstOpenStage = (stages: Stage[]) => sortedStages(stages).find((s) => !s.isClosed)!;
