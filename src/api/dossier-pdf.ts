import { fileURLToPath } from 'node:url';
import PDFDocument from 'pdfkit';

/** Noto Sans SC (SIL Open Font License, assets/fonts/OFL.txt): Chinese and Latin text; only the glyphs used are embedded. */
const FONT = fileURLToPath(new URL('../../assets/fonts/NotoSansSC-Regular.ttf', import.meta.url));

export const PDF_TYPE = 'application/pdf';
export const wantsPdf = (accept: string): boolean => /\bapplication\/pdf\b/i.test(accept);

export interface DossierPdfInput {
  customer: { id: string; name: string };
  generatedAt: string;
  generatedBy: string;
  range: { from?: string; to?: string };
  records: Record<string, number>;
  items: { position: number; at: string; actor: { id: string; name: string | null }; resource: string; recordId: string; type: string; changes: { field: string; from: unknown; to: unknown }[] }[];
}

const value = (v: unknown): string => {
  if (v === null || v === undefined) return '—';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
};

/**
 * The dossier as a PDF (A4, zh-CN and en labels), rendered with PDFKit and the embedded Chinese font: a header
 * with the customer, who asked and when, the range and the records covered; then every event in log order with
 * its time, actor, record and the fields it changed.
 */
export function dossierPdf(input: DossierPdfInput): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 48, info: { Title: `客户档案 Customer dossier — ${input.customer.name}`, Author: 'CRM', CreationDate: new Date(input.generatedAt) } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('text', FONT);
  doc.font('text');
  doc.fontSize(18).text(`客户档案 Customer dossier`);
  doc.fontSize(13).text(input.customer.name);
  doc.moveDown(0.5);
  doc.fontSize(9).fillColor('#444');
  doc.text(`客户 Customer: ${input.customer.id}`);
  doc.text(`生成 Generated: ${input.generatedAt} · ${input.generatedBy}`);
  doc.text(`范围 Range: ${input.range.from ?? '—'} … ${input.range.to ?? '—'}`);
  doc.text(`记录 Records: ${Object.entries(input.records).map(([resource, n]) => `${resource} ${n}`).join(', ')} · 事件 Events: ${input.items.length}`);
  doc.moveDown();
  for (const item of input.items) {
    doc.fillColor('#000').fontSize(10).text(`#${item.position}  ${item.at}  ${item.type}`, { continued: false });
    doc.fillColor('#444').fontSize(8.5).text(`${item.resource}/${item.recordId} · ${item.actor.name ?? item.actor.id}`);
    for (const change of item.changes) doc.fillColor('#000').fontSize(8.5).text(`    ${change.field}: ${value(change.from)} → ${value(change.to)}`);
    doc.moveDown(0.4);
  }
  doc.end();
  return done;
}
