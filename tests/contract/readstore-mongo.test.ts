import { describe, it } from 'vitest';
import { MongoReadStore } from '../../src/infra/readstore/mongo.ts';
import { serverUrl, skipReason } from '../support/servers.ts';
import { readStoreContract } from './readstore.contract.ts';

const url = serverUrl('MONGO_URL');
// FerretDB v1 (what CI runs) takes no condition in $pull; MongoDB does (MONGO_FLAVOUR=mongodb when running against it).
if (url) readStoreContract(`MongoDB wire protocol at ${url}`, () => MongoReadStore.connect(url, { database: 'crm_contract' }), { pullConditions: process.env.MONGO_FLAVOUR === 'mongodb' });
else describe('read store contract: MongoDB', () => it.skip(skipReason('MONGO_URL'), () => {}));
