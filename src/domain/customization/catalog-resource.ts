import { z } from 'zod';
import type { Module } from '../role/index.ts';
import type { ResourceSpec } from './resources.ts';

/**
 * A catalog record type's registry entry (see shared/catalog): company-wide, no personal data, listed by name with
 * `q` and `status`, its read model the fields and the status. The record type names what is its own.
 */
export const catalogResource = <const Name extends string>(own: {
  name: Name;
  singular: string;
  tag: string;
  module: Module;
  category: string;
  referenceField: string;
  decider: ResourceSpec['decider'];
  events: Readonly<Record<string, z.ZodType>>;
  standardFields: readonly string[];
}) =>
  ({
    ...own,
    scope: { by: 'company' },
    personalFields: [],
    standardFields: [...own.standardFields, 'status', 'createdAt', 'updatedAt'],
    relatedPanels: [],
    list: {
      filters: { q: z.string().trim().min(1).max(200).optional(), status: z.enum(['active', 'archived']).optional() },
      sorts: ['name', 'createdAt', 'updatedAt'],
      defaultSort: 'name',
    },
    search: ['name'],
    attachments: false,
    readModel: { version: 1, view: (state: { fields: Record<string, unknown>; status: string }) => ({ ...state.fields, status: state.status }) },
  }) satisfies ResourceSpec;
