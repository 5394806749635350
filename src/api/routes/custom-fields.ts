import { z } from 'zod';
import { authorize } from '../../commands/authorization.ts';
import { changeField, defineField, fieldsOf, retireField } from '../../commands/custom-fields.ts';
import { FieldKey, fieldTypes, Label, type Option, OptionInput } from '../../domain/customization/fields.ts';
import { resourceNames, type ResourceName } from '../../domain/customization/resources.ts';
import { notFound } from '../history.ts';
import { commonErrors, conflictError, notFoundError } from '../responses.ts';
import { type AnyRoute, defineRoute, EmptyBody, WriteResult, written } from '../route.ts';

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
  })
  .strict()
  .meta({ id: 'CustomFieldInput' });
const FieldPatch = z
  .object({ label: Label.optional(), required: z.boolean().optional(), default: z.unknown().optional(), options: z.array(OptionInput).max(500).optional() })
  .strict()
  .meta({ id: 'CustomFieldPatch' });
const FieldView = z
  .object({ key: z.string(), label: Label, type: z.enum(fieldTypes), required: z.boolean(), default: z.unknown().optional(), options: z.array(z.object({ value: z.string(), label: Label.partial().optional() })).optional(), unique: z.boolean(), referenceTo: z.string().optional(), retired: z.boolean() })
  .meta({ id: 'CustomField' });

export const customFieldRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/api/v1/settings/fields/:resource',
    summary: 'Define a custom field on a resource',
    description: `Types: ${fieldTypes.join(', ')}. Values then go under \`custom\` on the records; keys are never reused, even after retirement.`,
    tags,
    params: ResourceParams,
    body: FieldInput,
    responses: { 201: { description: 'Defined', schema: WriteResult }, ...commonErrors, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'create');
      const { options, default: initial, referenceTo, ...rest } = body;
      const field = { ...rest, ...(options ? { options: toOptions(options)! } : {}), ...(initial !== undefined ? { default: initial } : {}), ...(referenceTo ? { referenceTo } : {}) };
      const result = await defineField(services.deps, params.resource, field, actor, meta);
      return written(result, body.key, `/api/v1/settings/fields/${params.resource}/${body.key}`);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/api/v1/settings/fields/:resource',
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
    path: '/api/v1/settings/fields/:resource/:key',
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
  defineRoute({
    method: 'patch',
    path: '/api/v1/settings/fields/:resource/:key',
    summary: 'Change a custom field: label, required, default, more options (type and key never change)',
    tags,
    params: FieldParams,
    body: FieldPatch,
    conditional: true,
    responses: { 200: { description: 'Changed', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, body, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      const { options, ...rest } = body;
      const changes = { ...rest, ...(options ? { options: toOptions(options)! } : {}) };
      return written(await changeField(services.deps, params.resource, params.key, changes, actor, meta), params.key);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/api/v1/settings/fields/:resource/:key/retire',
    summary: 'Retire a custom field: no longer accepted, its history stays readable',
    tags,
    params: FieldParams,
    body: EmptyBody,
    responses: { 200: { description: 'Retired', schema: WriteResult }, ...commonErrors, ...notFoundError, ...conflictError },
    async handler({ params, actor, services, meta }) {
      authorize(actor, 'settings', 'edit');
      return written(await retireField(services.deps, params.resource, params.key, actor, meta), params.key);
    },
  }),
];
