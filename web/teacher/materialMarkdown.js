// A material's Markdown as blocks to render: the dialect the server writes (src/protolearn/ai/
// markdown.py): ATX headings, paragraphs, "-" or numbered lists, pipe tables, **bold**, *italic*,
// formulas in LaTeX between $ (inline) and $$ (display). Everything else is text. Nothing here
// makes HTML: the component renders text nodes, so a material can never inject markup.

const HEADING = /^(#{1,6})\s+(.*)$/;
const LIST_ITEM = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/;
const TABLE_RULE = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/;
const DISPLAY_MATH = /^\$\$([\s\S]+)\$\$$/;
// An inline formula as Pandoc reads one: no space inside its $ signs, no digit after the last
// ("costs $5 and $10" is text). Every span stops at the character that would end it, so a line
// of unclosed marks is read in linear time.
const INLINE = /\$\$([^$]{1,4000})\$\$|\$(?=[^\s$])([^$\n]{1,2000}?)(?<=[^\s$])\$(?!\d)|\*\*([^*\n]+)\*\*|__([^_\n]+)__|(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])/g;

// Text as the server's matchable() has it: case, punctuation marks and spacing ignored.
export function matchable(text) {
  return (text || "")
    .normalize("NFKC")
    .replace(/[\u201c\u201d]/g, '"').replace(/[\u2018\u2019]/g, "'").replace(/[\u2013\u2014]/g, "-")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}%.,;:'"()-]+/gu, " ")
    .trim()
    .replace(/[ .]+$/, "");
}

// Inline runs of one line: [{kind: "text" | "strong" | "em" | "math", text}].
export function parseInline(line) {
  const runs = [];
  let cursor = 0;
  for (const match of line.matchAll(INLINE)) {
    if (match.index > cursor) runs.push({ kind: "text", text: line.slice(cursor, match.index) });
    const [, display, inline, bold, boldUnderscore, italic] = match;
    if (display !== undefined || inline !== undefined) runs.push({ kind: "math", text: (display ?? inline).trim() });
    else if (bold !== undefined || boldUnderscore !== undefined) runs.push({ kind: "strong", text: bold ?? boldUnderscore });
    else runs.push({ kind: "em", text: italic });
    cursor = match.index + match[0].length;
  }
  if (cursor < line.length) runs.push({ kind: "text", text: line.slice(cursor) });
  return runs;
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/(?<!\\)\|$/, "").split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function plainOf(runs) {
  return runs.map((run) => run.text).join("");
}

// One page's Markdown as blocks: {kind, key, match, ...}; match is the block's words as
// matchable() has them (a table's rows and a list's items have their own), for finding the
// passages questions came from.
export function parseBlocks(markdown) {
  const blocks = [];
  const lines = (markdown || "").split("\n");
  let paragraph = [];
  const push = (block) => blocks.push({ ...block, key: `b${blocks.length}` });
  const endParagraph = () => {
    if (!paragraph.length) return;
    const text = paragraph.join(" ").trim();
    paragraph = [];
    const display = DISPLAY_MATH.exec(text);
    if (display) push({ kind: "math", tex: display[1].trim(), match: "" });
    else {
      const runs = parseInline(text);
      push({ kind: "paragraph", runs, match: matchable(plainOf(runs)) });
    }
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const trimmed = line.trim();
    if (!trimmed) { endParagraph(); continue; }
    const heading = HEADING.exec(trimmed);
    if (heading) {
      endParagraph();
      const runs = parseInline(heading[2].trim());
      push({ kind: "heading", level: Math.min(heading[1].length + 2, 6), runs, match: matchable(plainOf(runs)) });
      continue;
    }
    if (trimmed.startsWith("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1].trim())) {
      endParagraph();
      const header = cells(trimmed).map(parseInline);
      const rows = [];
      i += 2;
      while (i < lines.length && lines[i].trim().startsWith("|")) {
        const row = cells(lines[i]).map(parseInline);
        rows.push({ key: `r${rows.length}`, cells: row, match: matchable(row.map(plainOf).join(" ")) });
        i += 1;
      }
      i -= 1;
      push({ kind: "table", header, rows, match: matchable(header.map(plainOf).join(" ")) });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      endParagraph();
      const ordered = item[2] !== undefined;
      const last = blocks[blocks.length - 1];
      const runs = parseInline(item[3]);
      const entry = { key: `i${last?.kind === "list" ? last.items.length : 0}`, source: item[3], runs, match: matchable(plainOf(runs)) };
      if (last?.kind === "list" && last.ordered === ordered && last.open) last.items.push(entry);
      else push({ kind: "list", ordered, items: [entry], open: true, match: "" });
      continue;
    }
    if (blocks.length && blocks[blocks.length - 1].kind === "list" && !paragraph.length && /^\s/.test(line)) {
      const list = blocks[blocks.length - 1]; // a list item's continuation line
      const entry = list.items[list.items.length - 1];
      entry.source = `${entry.source} ${trimmed}`;
      entry.runs = parseInline(entry.source);
      entry.match = matchable(plainOf(entry.runs));
      continue;
    }
    const last = blocks[blocks.length - 1];
    if (last?.kind === "list") last.open = false;
    paragraph.push(trimmed);
  }
  endParagraph();
  return blocks;
}

// Whether a block (or a table row, a list item) holds the passage, or the passage holds it;
// both as matchable() has them.
export function holds(text, needle) {
  if (!text || !needle) return false;
  return text.includes(needle) || (text.length >= 12 && needle.includes(text));
}
