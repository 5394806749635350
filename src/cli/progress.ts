/** A one-line progress bar on stderr (redrawn in place on a terminal, a line per update otherwise). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let lastDraw = 0;
  return (done: number, total: number | bigint, force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const all = Math.max(Number(total), 1);
    const ratio = Math.min(done / all, 1);
    const width = 30;
    const filled = Math.round(ratio * width);
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ${done}/${all} ${rate}/s`;
    stream.write(stream.isTTY ? `\r${line}` : `${line}\n`);
  };
}
