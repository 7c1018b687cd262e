// The source view of a material beside its generated questions: as read, with its headings,
// lists, tables and formulas (the material's Markdown), or as plain text; each page says where its
// text came from (the PDF's text layer, OCR and which engine, with its confidence). The passages
// generated questions came from are marked: a paragraph, a heading, a list item or a table row.
import { computed, defineComponent, ref } from "vue";
import MathFormula from "./MathFormula.js";
import { holds, matchable, parseBlocks } from "./materialMarkdown.js";

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Where a passage lies in the text, whitespace-insensitively; null when it cannot be found.
function locate(text, passage) {
  const words = passage.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return null;
  const match = new RegExp(words.map(escapeRegExp).join("\\s+")).exec(text);
  return match ? { start: match.index, end: match.index + match[0].length } : null;
}

const MarkdownRuns = defineComponent({
  name: "MarkdownRuns",
  components: { MathFormula },
  props: { runs: { type: Array, required: true } },
  template: `<template v-for="(run, i) in runs" :key="i"><strong v-if="run.kind === 'strong'">{{ run.text }}</strong><em v-else-if="run.kind === 'em'">{{ run.text }}</em><math-formula v-else-if="run.kind === 'math'" :tex="run.text"></math-formula><template v-else>{{ run.text }}</template></template>`,
});

function percent(value) {
  return value === null || value === undefined ? null : Math.round(value * 100);
}

export function sourceLabel(page) {
  const confidence = percent(page?.ocr_confidence);
  const sure = confidence === null ? "" : ` · ${confidence}% confidence`;
  switch (page?.provider) {
    case "text_layer": return "Text layer of the PDF";
    case "docx": return "Word document";
    case "rapidocr": return `Read by OCR${sure}`;
    case "vision": return `Read by ${page.model || "the vision model"}${sure}`;
    default: return "";
  }
}

export default defineComponent({
  name: "MaterialSource",
  components: { MarkdownRuns, MathFormula },
  props: {
    material: { type: Object, required: true },
    passages: { type: Array, default: () => [] }, // [{id, number, text}]: questions' source passages
    selectedId: { type: Number, default: null },
  },
  setup(props) {
    const view = ref("structured");
    const needles = computed(() => props.passages.map((p) => ({ ...p, needle: matchable(p.text) })).filter((p) => p.needle.length >= 12));

    const pages = computed(() => {
      const markdown = props.material.extracted_markdown || props.material.extracted_text || "";
      const sources = props.material.pages || [];
      return markdown.split("\f").map((text, index) => ({
        number: index + 1,
        source: sources[index] || null,
        blocks: parseBlocks(text),
      }));
    });

    // How a block (a row, an item) is marked: as the source of which question, if any.
    function markOf(match) {
      const passage = needles.value.find((p) => holds(match, p.needle));
      if (!passage) return { classes: {}, title: null };
      return {
        classes: { "ai-mark": true, "ai-mark--active": passage.id === props.selectedId },
        title: `Source of question ${passage.number}`,
      };
    }

    // The plain text cut into runs and the passages questions came from.
    const segments = computed(() => {
      const text = (props.material.extracted_text || "").replace(/\f/g, "\n"); // pages: one line apart
      const spans = [];
      for (const passage of props.passages) {
        const at = locate(text, passage.text);
        if (at && !spans.some((s) => at.start < s.end && s.start < at.end)) spans.push({ ...at, id: passage.id, number: passage.number });
      }
      spans.sort((a, b) => a.start - b.start);
      const parts = [];
      let cursor = 0;
      for (const span of spans) {
        if (span.start > cursor) parts.push({ key: `t${cursor}`, text: text.slice(cursor, span.start), id: null });
        parts.push({ key: `m${span.id}`, text: text.slice(span.start, span.end), id: span.id, number: span.number });
        cursor = span.end;
      }
      if (cursor < text.length) parts.push({ key: `t${cursor}`, text: text.slice(cursor), id: null });
      return parts;
    });

    return { view, pages, segments, markOf, sourceLabel };
  },
  template: `
    <section class="card ai-material" aria-labelledby="ai-material-heading">
      <div class="ai-material__head">
        <h3 id="ai-material-heading">Source</h3>
        <div class="ai-material__views" role="group" aria-label="Show the material">
          <button type="button" :class="['button', 'button--small', view === 'structured' ? '' : 'button--secondary']" :aria-pressed="view === 'structured'" @click="view = 'structured'">As read</button>
          <button type="button" :class="['button', 'button--small', view === 'plain' ? '' : 'button--secondary']" :aria-pressed="view === 'plain'" @click="view = 'plain'">Plain text</button>
        </div>
      </div>
      <div v-if="view === 'structured'" class="ai-material__text ai-source" tabindex="0" aria-label="The material as read: headings, lists, tables and formulas">
        <article v-for="page in pages" :key="page.number" class="ai-source__page" :aria-label="'Page ' + page.number">
          <p class="ai-source__page-head"><span>Page {{ page.number }}</span><span v-if="page.source" class="muted">{{ sourceLabel(page.source) }}</span></p>
          <p v-if="page.source && page.source.note" class="notice notice--warning ai-source__note">{{ page.source.note }}</p>
          <template v-for="block in page.blocks" :key="block.key">
            <component v-if="block.kind === 'heading'" :is="'h' + block.level" :class="['ai-source__heading', markOf(block.match).classes]" :title="markOf(block.match).title"><markdown-runs :runs="block.runs"></markdown-runs></component>
            <p v-else-if="block.kind === 'paragraph'" :class="markOf(block.match).classes" :title="markOf(block.match).title"><markdown-runs :runs="block.runs"></markdown-runs></p>
            <div v-else-if="block.kind === 'math'" class="ai-source__math"><math-formula :tex="block.tex" display></math-formula></div>
            <component v-else-if="block.kind === 'list'" :is="block.ordered ? 'ol' : 'ul'">
              <li v-for="item in block.items" :key="item.key" :class="markOf(item.match).classes" :title="markOf(item.match).title"><markdown-runs :runs="item.runs"></markdown-runs></li>
            </component>
            <div v-else-if="block.kind === 'table'" class="ai-source__table">
              <table>
                <thead><tr><th v-for="(cell, c) in block.header" :key="c" scope="col"><markdown-runs :runs="cell"></markdown-runs></th></tr></thead>
                <tbody>
                  <tr v-for="row in block.rows" :key="row.key" :class="markOf(row.match).classes" :title="markOf(row.match).title">
                    <td v-for="(cell, c) in row.cells" :key="c"><markdown-runs :runs="cell"></markdown-runs></td>
                  </tr>
                </tbody>
              </table>
            </div>
          </template>
        </article>
      </div>
      <div v-else class="ai-material__text ai-material__plain" tabindex="0" aria-label="The extracted text of the material"><template v-for="part in segments" :key="part.key"><mark v-if="part.id !== null" :class="['ai-mark', { 'ai-mark--active': part.id === selectedId }]" :title="'Source of question ' + part.number">{{ part.text }}</mark><template v-else>{{ part.text }}</template></template></div>
    </section>`,
});
