import { z } from 'zod';
import { changeField, defineField, fieldsOf, retireField } from '../../commands/custom-fields.ts';
import { FieldKey, fieldTypes, Label, type Option, OptionInput } from '../../domain/customization/fields.ts';
import { resourceNames, type ResourceName } from '../../domain/customization/resources.ts';
import { notFound } from '../history.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, EmptyBody, type ResponseSpec, type RouteContext, WriteResult, written } from '../route.ts';

const tags = ['Custom fields 自定义字段'];
const Resource = z.enum(resourceNames as [ResourceName, ...ResourceName[]]);
const ResourceParams = z.object({ resource: Resource });
const FieldParams = z.object({ resource: Resource, key: FieldKey });
const toOptions = (options: z.infer<typeof OptionInput>[] | undefined): Option[] | undefined =>
  options?.map((o) => (typeof o === 'string' ? { value: o } : { value: o.value, ...(o.label ? { label: o.label } : {}) }));

const FieldInput = z
  .object({
    key: FieldKey,
    label: Label,
    type: z.enum(fieldTypes),
    required: z.boolean().default(false),
    default: z.unknown().optional(),
    options: z.array(OptionInput).max(500).optional(),
    unique: z.boolean().default(false),
    referenceTo: Resource.optional(),
    personal: z.boolean().default(false).describe('Holds personal data (个人信息): encrypted per person on contacts and erased with them, left out of exports without the personalData export grant'),
  })
  .strict()
  .meta({ id: 'CustomFieldInput' });
const FieldPatch = z
  .object({ label: Label.optional(), required: z.boolean().optional(), default: z.unknown().optional(), options: z.array(OptionInput).max(500).optional(), personal: z.boolean().optional().describe('Marks the field as personal data from now on; values written before stay as they were written') })
  .strict()
  .meta({ id: 'CustomFieldPatch' });
const FieldView = z
  .object({ key: z.string(), label: Label, type: z.enum(fieldTypes), required: z.boolean(), default: z.unknown().optional(), options: z.array(z.object({ value: z.string(), label: Label.partial().optional() })).optional(), unique: z.boolean(), referenceTo: z.string().optional(), personal: z.boolean(), retired: z.boolean() })
  .meta({ id: 'CustomField' });

const BASE = '/api/v1/settings/fields';

/**
 * A change to one resource's field definitions (settings `create` or `edit`): it answers the field's key and
 * the definitions' new revision.
 */
function fieldWrite<P extends { resource: ResourceName }, B>(write: {
  method: 'post' | 'patch';
  path: string;
  summary: string;
  description?: string;
  params: z.ZodType<P>;
  body: z.ZodType<B>;
  action: 'create' | 'edit';
  answers: Record<number, ResponseSpec>;
  conditional?: boolean;
  key(params: P, body: B): string;
  run(params: P, body: B, context: RouteContext<P, unknown, B>): Promise<{ revision: bigint; position: bigint }>;
}): AnyRoute {
  const { method, path, summary, description, params, body, conditional } = write;
  return defineRoute({
    method,
    path,
    summary,
    ...(description ? { description } : {}),
    tags,
    permission: ['settings', write.action],
    params,
    body,
    ...(conditional ? { conditional } : {}),
    responses: write.answers,
    async handler(context) {
      const key = write.key(context.params, context.body);
      const result = await write.run(context.params, context.body, context);
      return written(result, key, write.action === 'create' ? `${BASE}/${context.params.resource}/${key}` : undefined);
    },
  });
}

export const customFieldRoutes: AnyRoute[] = [
  fieldWrite({
    method: 'post',
    path: BASE + '/:resource',
    summary: 'Define a custom field on a resource',
    description: `Types: ${fieldTypes.join(', ')}. Values then go under \`custom\` on the records; keys are never reused, even after retirement.`,
    params: ResourceParams,
    body: FieldInput,
    action: 'create',
    answers: { 201: { description: 'Defined', schema: WriteResult }, ...commonErrors, ...conflictError },
    key: (_params, body) => body.key,
    run({ resource }, { options, default: initial, referenceTo, ...rest }, { actor, services, meta }) {
      const field = { ...rest, ...(options ? { options: toOptions(options)! } : {}), ...(initial !== undefined ? { default: initial } : {}), ...(referenceTo ? { referenceTo } : {}) };
      return defineField(services.deps, resource, field, actor, meta);
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE + '/:resource',
    reads: [],
    summary: "A resource's custom fields (retired ones included, marked)",
    tags,
    params: ResourceParams,
    responses: { 200: { description: 'Definitions', schema: z.object({ items: z.array(FieldView) }) }, ...commonErrors },
    async handler({ params, services }) {
      return { status: 200, body: { items: Object.values(await fieldsOf(services.deps, params.resource)) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: BASE + '/:resource/:key',
    reads: [],
    summary: 'One custom field',
    tags,
    params: FieldParams,
    responses: { 200: { description: 'Definition', schema: FieldView }, ...commonErrors, ...notFoundError },
    async handler({ params, services }) {
      const field = (await fieldsOf(services.deps, params.resource))[params.key];
      if (!field) throw notFound('field', params.key);
      return { status: 200, body: field };
    },
  }),
  fieldWrite({
    method: 'patch',
    path: BASE + '/:resource/:key',
    summary: 'Change a custom field: label, required, default, more options (type and key never change)',
    params: FieldParams,
    body: FieldPatch,
    action: 'edit',
    conditional: true,
    answers: { 200: { description: 'Changed', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    key: (params) => params.key,
    run: ({ resource, key }, { options, ...rest }, { actor, services, meta }) => changeField(services.deps, resource, key, { ...rest, ...(options ? { options: toOptions(options)! } : {}) }, actor, meta),
  }),
  fieldWrite({
    method: 'post',
    path: BASE + '/:resource/:key/retire',
    summary: 'Retire a custom field: no longer accepted, its history stays readable',
    params: FieldParams,
    body: EmptyBody,
    action: 'edit',
    answers: { 200: { description: 'Retired', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    key: (params) => params.key,
    run: ({ resource, key }, _body, { actor, services, meta }) => retireField(services.deps, resource, key, actor, meta),
  }),
];
