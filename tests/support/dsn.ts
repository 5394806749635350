import { readFileSync } from 'node:fs';

/** A delivery status notification fixture (tests/fixtures/dsn) with its placeholders filled in. */
export const dsnFixture = (name: 'hard-bounce' | 'soft-bounce', values: { recipient: string; messageId: string; campaignId?: string }) =>
  readFileSync(new URL(`../fixtures/dsn/${name}.eml`, import.meta.url), 'utf8').replaceAll('{{RECIPIENT}}', values.recipient).replaceAll('{{MESSAGE_ID}}', values.messageId).replaceAll('{{CAMPAIGN}}', values.campaignId ?? '');
