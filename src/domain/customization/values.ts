import { z } from 'zod';

/** The `custom` object of a record: checked against the resource's field definitions by the command layer. */
export const CustomValues = z
  .record(z.string(), z.unknown())
  .describe('Custom fields defined by an administrator; their keys and types: GET /api/v1/settings/fields/<resource>')
  .meta({ id: 'CustomValues' });
