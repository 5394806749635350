import Handlebars from 'handlebars';
import { compile as compileHtmlToText } from 'html-to-text';
import type { EmailTemplateFields } from './template.ts';

/** The languages a mail goes out in. */
export type MailLocale = 'zh-CN' | 'en';

/**
 * What a template's merge fields read: the member's contact (or lead) and customer, with their custom fields under
 * `custom`, and the links every marketing mail carries.
 */
export interface MergeData {
  contact?: Record<string, unknown>;
  customer?: Record<string, unknown>;
  lead?: Record<string, unknown>;
  campaign?: { name: string };
  unsubscribeUrl?: string;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

/** Per-member links the renderer puts in: where a click goes through, the open pixel, the unsubscribe page. */
export interface TrackingLinks {
  click(url: string): string;
  openPixel: string;
  unsubscribe: string;
}

// One Handlebars environment of our own (no helpers or partials registered globally); HTML-escaping for the body,
// none for the subject and the text part, which are not HTML.
const handlebars = Handlebars.create();
const compileOptions = { html: { strict: false }, plain: { strict: false, noEscape: true } } as const;
/** HTML to the plain-text part: wrapped at 100, links kept as `text [url]`, images (the open pixel) left out. */
const htmlToText = compileHtmlToText({ wordwrap: 100, selectors: [{ selector: 'img', format: 'skip' }] });

/** The parts (path → Handlebars source) that do not compile, each with Handlebars' message (empty: they render). */
function compileProblems(parts: readonly [string, string | undefined][]): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const [path, source] of parts) {
    if (source === undefined) continue;
    try {
      handlebars.precompile(source);
    } catch (error) {
      problems.push({ path, message: (error as Error).message.split('\n').slice(0, 3).join(' ') });
    }
  }
  return problems;
}

/** The template's parts that do not compile, each with Handlebars' message (empty: it renders). */
export const templateProblems = (fields: Pick<EmailTemplateFields, 'subject' | 'html' | 'text'>): { path: string; message: string }[] =>
  compileProblems([
    ...Object.entries(fields.subject).map(([locale, source]) => [`subject.${locale}`, source] as [string, string | undefined]),
    ...Object.entries(fields.html).map(([locale, source]) => [`html.${locale}`, source] as [string, string | undefined]),
    ...Object.entries(fields.text ?? {}).map(([locale, source]) => [`text.${locale}`, source] as [string, string | undefined]),
  ]);

/** An SMS template's parameters that do not compile (`params.<name>`). */
export const smsParamProblems = (params: Record<string, string>): { path: string; message: string }[] => compileProblems(Object.entries(params).map(([name, source]) => [`params.${name}`, source]));

/** An SMS template's parameters compiled once, for a send that fills them for every member: plain text on one line. */
export function compileSmsParams(params: Record<string, string>): (data: MergeData) => Record<string, string> {
  const compiled = Object.entries(params).map(([name, source]) => [name, handlebars.compile(source, compileOptions.plain)] as const);
  return (data) => Object.fromEntries(compiled.map(([name, fill]) => [name, fill(data).replace(/\s+/g, ' ').trim()]));
}

/** The template's language for a member: English when the member reads English and the template has it, else Chinese. */
export const localeFor = (template: Pick<EmailTemplateFields, 'html' | 'subject'>, wanted: MailLocale | undefined): MailLocale =>
  wanted === 'en' && template.html.en && template.subject.en ? 'en' : 'zh-CN';

const HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;

/**
 * The mail one member gets: merge fields filled in (HTML-escaped in the body), every http(s) link of the body sent
 * through its click-tracking link, the open pixel at the end, and the plain-text part generated from the HTML (its
 * links the tracked ones too) unless the template has its own.
 */
export const renderMail = (template: Pick<EmailTemplateFields, 'subject' | 'html' | 'text'>, locale: MailLocale, data: MergeData, links?: TrackingLinks): RenderedMail =>
  compileMail(template, locale)(data, links);

/** `renderMail` compiled once for a template and language, for a send that renders it for every member. */
export function compileMail(template: Pick<EmailTemplateFields, 'subject' | 'html' | 'text'>, locale: MailLocale): (data: MergeData, links?: TrackingLinks) => RenderedMail {
  const subjectOf = handlebars.compile(template.subject[locale] ?? template.subject['zh-CN'], compileOptions.plain);
  const htmlOf = handlebars.compile(template.html[locale] ?? template.html['zh-CN'], compileOptions.html);
  const ownText = template.text?.[locale] ?? (locale === 'zh-CN' ? template.text?.['zh-CN'] : undefined);
  const textOf = ownText ? handlebars.compile(ownText, compileOptions.plain) : undefined;
  return (data, links) => {
    const context = { ...data, ...(links ? { unsubscribeUrl: links.unsubscribe } : {}) };
    const subject = subjectOf(context).replace(/[\r\n]+/g, ' ').trim();
    let html = htmlOf(context);
    if (links) {
      html = html.replace(HREF, (_match, start: string, quote: string, url: string) => `${start}${quote}${escapeAttribute(links.click(decodeEntities(url)))}${quote}`);
      const pixel = `<img src="${escapeAttribute(links.openPixel)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">`;
      html = /<\/body>/i.test(html) ? html.replace(/<\/body>/i, `${pixel}</body>`) : `${html}${pixel}`;
    }
    const text = textOf ? textOf(context) : htmlToText(html);
    return { subject, html, text };
  };
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const decodeEntities = (value: string) => value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x3D;/g, '=').replace(/&#x60;/g, '`');
