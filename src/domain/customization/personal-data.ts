import type { FieldDefinition } from './fields.ts';
import { type ResourceName, specOf } from './resources.ts';

/**
 * The fields of a resource that hold personal data, as field-level security names them: its standard personal
 * fields (the registry's `personalFields`) and `custom.<key>` for each custom field marked `personal`.
 */
export function personalFieldPaths(resource: ResourceName, customFields: Readonly<Record<string, FieldDefinition>>): string[] {
  return [
    ...specOf(resource).personalFields,
    ...Object.values(customFields)
      .filter((field) => field.personal)
      .map((field) => `custom.${field.key}`),
  ];
}
