import { z } from 'zod';
import { eraseContactPersonalData } from '../../commands/personal-data.ts';
import { contactCategory } from '../../domain/contact/index.ts';
import { SEALED_PREFIX } from '../../infra/personal-data/sealing.ts';
import { HttpProblem } from '../problem.ts';
import { recordInScope } from '../records.ts';
import { commonErrors, conflictError, goneError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, Id, IdParams, WriteResult, written } from '../route.ts';

const tags = ['Personal data 个人信息'];

const SubjectKey = z
  .object({
    subjectId: z.string().describe('The data subject, `contact-<id>`, as `metadata.personal[].subjectId` names it in events and Kafka messages'),
    algorithm: z.literal('AES-256-GCM'),
    key: z.string().describe('The key, base64 (32 bytes)'),
    format: z
      .string()
      .describe(`A sealed value is \`${SEALED_PREFIX}\` + base64(iv 12 bytes ‖ tag 16 bytes ‖ ciphertext) of the value's JSON; the additional authenticated data is \`<subjectId>\\u0000<JSON pointer>\``),
  })
  .meta({ id: 'SubjectKey' });

const SubjectParams = z.object({ subjectId: z.string().regex(new RegExp(`^${contactCategory}-`), `Expected a subject id, ${contactCategory}-<id>`) });

export const personalDataRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/contacts/:id/erase',
    summary: "Erase a contact's personal data (PIPL / GDPR, crypto-shredding): its key is destroyed, so its personal values read `[erased]` everywhere, in the log, a rebuild and Kafka messages alike",
    description:
      'Irreversible. The contact keeps its non-personal fields (title, role in the deal, notes), its customer and its history; `PersonalDataErased` is appended (and published), the hash chain still verifies, and the contact takes no more changes (409 `contact.erased`).',
    tags,
    permission: ['personalData', 'delete'],
    params: IdParams,
    body: z.object({}).strict().optional(),
    responses: {
      200: {
        description: 'Erased',
        schema: WriteResult.extend({
          eventsInClear: z.number().int().describe("The contact's events written before personal data was sealed: they hold its personal values in clear, out of the erasure's reach until the log is migrated (`npm run personal-data:seal`, see the README); 0 for a contact added since"),
        }),
      },
      ...commonErrors,
      ...notFoundError,
      ...conflictError,
    },
    async handler({ params, actor, services, meta }) {
      await recordInScope(services, actor, 'contacts', params.id);
      const result = await eraseContactPersonalData(services.deps, services.personalData, params.id, actor, meta);
      if (result.eventsInClear > 0) services.logger.warn('an erased contact has events from before sealing, holding its personal data in clear: migrate the log (npm run personal-data:seal)', { contactId: params.id, eventsInClear: result.eventsInClear });
      const answer = written(result, params.id);
      return { ...answer, body: { ...(answer.body as object), eventsInClear: result.eventsInClear } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/personal-data/keys/:subjectId',
    reads: [],
    summary: "A data subject's key, for a consumer of Kafka messages that needs the personal values they carry sealed; 410 once the subject was erased",
    tags,
    permission: ['personalData', 'export'],
    params: SubjectParams,
    responses: { 200: { description: 'The key (not to be stored longer than the use needs)', schema: SubjectKey }, ...commonErrors, ...notFoundError, ...goneError },
    async handler({ params, actor, services }) {
      const contactId = Id.safeParse(params.subjectId.slice(contactCategory.length + 1));
      if (!contactId.success) throw new HttpProblem(404, 'personal_data.not_found', 'Not found', `No data subject ${params.subjectId}`);
      await recordInScope(services, actor, 'contacts', contactId.data);
      const found = await services.personalData.subjectKey(params.subjectId);
      if (!found) throw new HttpProblem(404, 'personal_data.not_found', 'Not found', `No personal data of ${params.subjectId} was ever sealed`);
      if ('erasedAt' in found) throw new HttpProblem(410, 'personal_data.erased', 'No longer available', `The personal data of ${params.subjectId} was erased at ${found.erasedAt}`, { erasedAt: found.erasedAt });
      return {
        status: 200,
        body: { subjectId: params.subjectId, algorithm: 'AES-256-GCM' as const, key: found.key.toString('base64'), format: `${SEALED_PREFIX}base64(iv|tag|ciphertext)` },
        headers: { 'Cache-Control': 'no-store' },
      };
    },
  }),
];
