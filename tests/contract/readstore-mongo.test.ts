import { describe, it } from 'vitest';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { serverUrl, skipReason } from '../support/servers.ts';
import { readStoreContract } from './readstore.contract.ts';

const url = serverUrl('MONGO_URL');
if (url) readStoreContract(`MongoDB wire protocol at ${url}`, () => MongoReadStore.connect(url, { database: 'crm_contract' }));
else describe('read store contract: MongoDB', () => it.skip(skipReason('MONGO_URL'), () => {}));
