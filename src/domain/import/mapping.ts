/**
 * Column mapping (字段映射) for imports: which record field each column of a spreadsheet fills, suggested from the
 * column's header in Chinese or English (as companies' old CRMs and ERPs export them), editable, and saved as a
 * reusable template. A target is a standard field, `custom.<key>` for a custom field, or a reference resolved by
 * name: `ownerUsername` (the owner, by login name) and, for contacts, `customerName` (their customer, by name).
 */
export const IMPORT_RESOURCES = ['customers', 'contacts', 'products', 'leads'] as const;
export type ImportResource = (typeof IMPORT_RESOURCES)[number];

/** Per resource, the importable targets and the header names that suggest each (compared normalised). */
export const importTargets: Record<ImportResource, Record<string, readonly string[]>> = {
  customers: {
    name: ['name', 'customer', 'customer name', 'company', 'company name', 'account', 'account name', '客户名称', '客户', '客户全称', '公司名称', '公司', '单位名称', '往来单位', '往来单位名称', '名称'],
    shortName: ['short name', 'abbreviation', 'alias', '简称', '客户简称'],
    industry: ['industry', 'sector', '行业', '所属行业'],
    region: ['region', 'area', 'territory', '区域', '地区', '销售区域', '所属区域'],
    address: ['address', 'street', '地址', '详细地址', '公司地址', '通讯地址'],
    postalCode: ['postal code', 'postcode', 'zip', 'zip code', '邮编', '邮政编码'],
    phone: ['phone', 'telephone', 'tel', 'company phone', '电话', '联系电话', '公司电话', '座机', '办公电话'],
    website: ['website', 'web', 'url', 'homepage', '网址', '网站', '公司网址', '主页'],
    taxNumber: ['tax number', 'tax id', 'vat', 'vat number', 'uscc', 'unified social credit code', '统一社会信用代码', '信用代码', '税号', '纳税人识别号'],
    annualRevenue: ['annual revenue', 'revenue', '年营业额', '营业额', '年销售额', '年收入'],
    creditLimit: ['credit limit', '信用额度', '授信额度'],
    source: ['source', 'lead source', '来源', '客户来源'],
    level: ['level', 'grade', 'rating', 'customer level', '客户等级', '等级', '级别', '客户级别'],
    category: ['category', 'type', 'customer type', '类别', '分类', '客户类别', '客户类型', '客户分类'],
    notes: ['notes', 'note', 'remark', 'remarks', 'comment', 'comments', 'description', '备注', '说明', '描述'],
    erpCode: ['erp code', 'customer code', 'code', '往来单位编码', '客户编码', '编码', 'erp编码', '客户代码'],
    ownerUsername: ['owner', 'owner username', 'account owner', 'salesperson', 'sales rep', '负责人', '所有人', '业务员', '销售员', '客户经理', '销售代表'],
  },
  contacts: {
    name: ['name', 'contact', 'contact name', 'full name', '姓名', '联系人', '联系人姓名', '名字'],
    title: ['title', 'job title', 'position', '职务', '职位', '岗位'],
    officePhone: ['office phone', 'phone', 'telephone', 'work phone', '办公电话', '电话', '座机', '固定电话'],
    mobile: ['mobile', 'mobile phone', 'cell', 'cellphone', '手机', '手机号', '手机号码', '移动电话'],
    email: ['email', 'e-mail', 'mail', 'email address', '邮箱', '电子邮件', '电子邮箱', '邮件地址'],
    birthday: ['birthday', 'date of birth', 'birth date', '生日', '出生日期'],
    notes: ['notes', 'note', 'remark', 'remarks', '备注', '说明'],
    customerName: ['customer', 'customer name', 'company', 'company name', 'account', 'account name', '客户', '客户名称', '公司', '公司名称', '所属客户', '单位名称'],
  },
  products: {
    code: ['code', 'product code', 'sku', 'item code', 'item no', 'part number', '编码', '产品编码', '存货编码', '物料编码', '商品编码', '货号'],
    name: ['name', 'product', 'product name', 'item', 'item name', '名称', '产品名称', '存货名称', '物料名称', '商品名称', '品名'],
    specification: ['specification', 'spec', 'specs', 'model', '规格', '规格型号', '型号'],
    unit: ['unit', 'uom', 'unit of measure', '单位', '计量单位', '主计量单位'],
    category: ['category', 'product category', 'type', '类别', '分类', '存货分类', '产品类别'],
    standardPrice: ['standard price', 'price', 'list price', 'unit price', '标准价', '单价', '价格', '售价', '参考售价', '零售价'],
    taxRate: ['tax rate', 'vat rate', 'tax', '税率', '增值税率'],
    active: ['active', 'enabled', 'status', '启用', '是否启用', '状态'],
  },
  leads: {
    company: ['company', 'company name', 'organisation', 'organization', '公司', '公司名称', '单位', '单位名称', '企业名称', '客户名称'],
    person: ['person', 'name', 'contact', 'contact name', '姓名', '联系人', '联系人姓名'],
    phone: ['phone', 'mobile', 'telephone', 'tel', '电话', '手机', '联系电话', '手机号'],
    email: ['email', 'e-mail', 'mail', '邮箱', '电子邮件'],
    source: ['source', 'lead source', 'channel', '来源', '线索来源', '渠道'],
    notes: ['notes', 'note', 'remark', 'remarks', 'description', '备注', '说明', '描述'],
    ownerUsername: ['owner', 'owner username', 'salesperson', 'sales rep', '负责人', '所有人', '业务员', '销售员'],
  },
};

/** A header as compared: NFKC (full-width to half-width), lower case, without spaces, punctuation, brackets and what they hold (`电话(必填)`). */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[(（[【][^)）\]】]*[)）\]】]/g, '')
    .replace(/[\s_\-.:：*/\\'"’`]+/g, '');
}

/** A custom field as a column may name it: its key and its labels. */
export interface CustomTarget {
  key: string;
  label: { 'zh-CN': string; en: string };
}

/**
 * The suggested target of each column (null: leave it out): an exact match of the normalised header with a
 * target's name, a known header name or (after those) a custom field's key or label. Each target is suggested for one column
 * at most (the first that names it).
 */
export function suggestMapping(resource: ImportResource, headers: readonly string[], custom: readonly CustomTarget[] = []): Record<string, string | null> {
  // Standard fields first: a custom field labelled like one does not take its column.
  const names = new Map<string, string>();
  for (const [target, synonyms] of Object.entries(importTargets[resource])) for (const name of [target, ...synonyms]) if (!names.has(normalizeHeader(name))) names.set(normalizeHeader(name), target);
  for (const field of custom) for (const name of [field.key, field.label['zh-CN'], field.label.en]) if (!names.has(normalizeHeader(name))) names.set(normalizeHeader(name), `custom.${field.key}`);
  const taken = new Set<string>();
  const mapping: Record<string, string | null> = {};
  for (const header of headers) {
    const target = names.get(normalizeHeader(header)) ?? null;
    mapping[header] = target && !taken.has(target) ? target : null;
    if (target) taken.add(target);
  }
  return mapping;
}
