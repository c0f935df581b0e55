/**
 * The filtered stream's body as lines: splits a chunked body on "\n" (dropping a trailing "\r"), across chunk
 * boundaries.
 */
export class LineSplitter {
  #parts: Buffer[] = [];

  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      let line = chunk.subarray(start, nl);
      if (this.#parts.length > 0) {
        this.#parts.push(line);
        line = Buffer.concat(this.#parts);
        this.#parts = [];
      }
      lines.push(line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line);
      start = nl + 1;
    }
    if (start < chunk.length) this.#parts.push(chunk.subarray(start));
    return lines;
  }
}
